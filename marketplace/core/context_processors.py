from django.conf import settings
from django.utils.functional import SimpleLazyObject


def site(request):
    user = getattr(request, "user", None)

    def unread() -> int:
        if user is None or not user.is_authenticated:
            return 0
        return user.notifications.filter(read_at__isnull=True).count()

    return {
        "SITE_NAME": "Tradepost",
        "CURRENCIES": settings.CURRENCIES,
        # Lazy: the count query only runs on pages that show it.
        "unread_notifications": SimpleLazyObject(unread),
    }
