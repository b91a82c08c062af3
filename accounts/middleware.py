from django.conf import settings
from django.utils import translation


class PreferredLanguageMiddleware:
    """Speak a signed-in user's preferred language unless they picked one for this browser.

    Runs after LocaleMiddleware (which honours the language cookie and Accept-Language).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
            and user.preferred_language
        ):
            translation.activate(user.preferred_language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
