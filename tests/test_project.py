"""The project as a whole: production settings, the message catalogue, the compose file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE = ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.po"

PRODUCTION_ENV = {
    "DEBUG": "false",
    "HTTPS": "true",
    "SECRET_KEY": "k" * 20 + "production-like-secret-with-enough-entropy-9f8e7d6c5b4a",
    "SUBJECT_HASH_KEY": "production-like-subject-hash-key",
    "ALLOWED_HOSTS": "vie-privee.okasio.fr",
    "DATABASE_URL": "sqlite:////tmp/okasio-deploy-check.sqlite3",
    "REDIS_URL": "",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        # Django's deploy check rightly refuses DJANGO_ALLOW_ASYNC_UNSAFE, which the
        # browser tests need in the test process only.
        env={**{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_the_deploy_check_with_production_values():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    env["ENV_FILE"] = "/nonexistent/.env"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "SECRET_KEY"}, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_it_has_a_complete_french_catalogue(tmp_path, settings):
    """Every translatable string in the code and templates has a French translation."""
    # makemessages writes into any locale/ it finds, so extract from a copy without one.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".*", "locale", "tests", "bench", "staticfiles", "var", "node_modules", "*.sqlite3"
        ),
    )
    settings.LOCALE_PATHS = [tmp_path / "extracted"]
    (tmp_path / "extracted").mkdir()
    cwd = os.getcwd()
    os.chdir(source)
    try:
        call_command("makemessages", locale=["fr"], verbosity=0)
    finally:
        os.chdir(cwd)
    with (tmp_path / "extracted" / "fr" / "LC_MESSAGES" / "django.po").open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    with CATALOGUE.open("rb") as f:
        catalogue = read_po(f)
    have = {m.id: m for m in catalogue if m.id}
    missing = sorted(str(i) for i in wanted - have.keys())
    assert not missing, f"not in the French catalogue (run `make messages`): {missing[:20]}"
    untranslated = [
        str(m.id)
        for m in have.values()
        if m.id in wanted and not (all(m.string) if isinstance(m.string, tuple) else m.string)
    ]
    assert not untranslated, f"untranslated: {untranslated[:20]}"
    fuzzy = [str(m.id) for m in have.values() if m.fuzzy]
    assert not fuzzy, f"fuzzy: {fuzzy[:20]}"


def test_it_has_a_valid_compose_file():
    def compose(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["docker-compose", "-f", "docker-compose.yml", *args],
            cwd=ROOT,
            env={**os.environ, "SECRET_KEY": "s", "SUBJECT_HASH_KEY": "h"},
            capture_output=True,
            text=True,
            timeout=60,
        )

    result = compose("config", "-q")
    assert result.returncode == 0, result.stderr
    config = compose("config").stdout
    # Exactly one beat (Celery: "ensure only a single scheduler is running").
    assert config.count("celery -A okasio_privacy beat") == 1


def test_it_documents_every_variable_in_env_example():
    import re

    read = set(
        re.findall(
            r'env(?:\.\w+)?\(\s*"([A-Z_]+)"',
            (ROOT / "okasio_privacy" / "settings.py").read_text(),
        )
    )
    example = (ROOT / ".env.example").read_text().splitlines()
    keys = [line.split("=", 1)[0] for line in example if line and not line.startswith("#")]
    assert keys == sorted(keys), "keep .env.example alphabetised"
    assert read <= set(keys), f"missing from .env.example: {sorted(read - set(keys))}"
    readme = (ROOT / "README.md").read_text()
    assert not [k for k in read if f"`{k}`" not in readme], "every variable is in the README"


def test_gunicorn_reads_its_settings_file_and_freezes_what_a_worker_loaded():
    """gunicorn.conf.py, found in the working directory (the image's, the bench's)."""
    import gc
    import runpy

    printed = subprocess.run(
        [str(Path(sys.executable).with_name("gunicorn")), "--print-config", "okasio_privacy.wsgi"],
        cwd=ROOT,
        env={**os.environ, "SECRET_KEY": "x", "SUBJECT_HASH_KEY": "y"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert re.search(r"^post_worker_init\s+= <post_worker_init\(\)>$", printed, re.MULTILINE)
    assert re.search(r"^logger_class\s+= okasio_privacy.logs.AccessLogger$", printed, re.MULTILINE)
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    try:
        hooks["post_worker_init"](worker=None)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
