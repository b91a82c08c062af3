from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        # A new account speaks the language the visitor was browsing in.
        user.preferred_language = translation.get_language() or "en"
        if commit:
            user.save()
        return user
