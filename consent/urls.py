from __future__ import annotations

from django.urls import path

from . import api, views

app_name = "consent"

# Public pages, under i18n_patterns (French at /, English at /en/)
urlpatterns = [
    # /politique-de-confidentialite/: the privacy policy (B16, D1-D14)
    path("politique-de-confidentialite/", views.policy, name="policy"),
    # /desinscription/<token>/: one-click unsubscribe (B9, B10, RFC 8058)
    path("desinscription/<str:token>/", views.unsubscribe, name="unsubscribe"),
    # /vie-privee/consentements/: the person's consents, in the privacy space (B12, C10)
    path("vie-privee/consentements/", views.my_consents, name="my_consents"),
    path("vie-privee/consentements/marketing/", views.set_marketing, name="set_marketing"),
    # A Stripe payment method ID ("pm_…") is a slug: anything else (NUL...) is a 404 here,
    # before it reaches the database.
    path(
        "vie-privee/consentements/cartes/<slug:payment_method>/retirer/",
        views.withdraw_card,
        name="withdraw_card",
    ),
]

# The JSON API, under /api/v1/ (no language prefix)
api_urlpatterns = [
    # /api/v1/consent/: the banner's state (GET) and a choice (POST)
    path("consent/", api.CookieBannerAPI.as_view(), name="banner"),
    # /api/v1/opposition/check: the platform checks addresses (B11)
    path("opposition/check", api.OppositionCheckAPI.as_view(), name="opposition_check"),
    # /api/v1/saved-cards/withdraw: the platform withdraws a card (C10)
    path("saved-cards/withdraw", api.SavedCardWithdrawAPI.as_view(), name="saved_card_withdraw"),
    # /api/v1/consents/: the platform records a choice made there (B12, C10)
    path("consents/", api.ConsentRecordAPI.as_view(), name="consents"),
    # /api/v1/consents/texts/: the wordings of the platform's consent boxes (public)
    path("consents/texts/", api.ConsentTextsAPI.as_view(), name="consent_texts"),
]
