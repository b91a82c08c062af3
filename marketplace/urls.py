from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from accounts import staff_mfa
from marketplace import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/setlang/", views.set_language, name="set-language"),
    # Before allauth's own: staff who must use MFA first prove their mailbox (accounts.staff_mfa).
    path(
        "accounts/2fa/totp/activate/",
        staff_mfa.activate_totp_with_proof,
        name="mfa_activate_totp",
    ),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    path("", include("customs.urls")),
    path("", include("marketplace.listings.urls")),
    path("", include("marketplace.orders.urls")),
    path(settings.ADMIN_URL, admin.site.urls),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
