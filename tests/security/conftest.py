"""The security tests reuse the rights app's request factory."""

from __future__ import annotations

from tests.rights.conftest import make_dsr  # noqa: F401 (a fixture)
