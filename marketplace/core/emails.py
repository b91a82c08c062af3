"""Email as subject/text/HTML triplets, rendered in the recipient's language.

``templates/emails/<name>/subject.txt``, ``body.txt`` and ``body.html``. The HTML part extends
``emails/base.html``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import Context
from django.template.loader import get_template, render_to_string
from django.utils import translation


def _render_text(template_name: str, context: dict) -> str:
    # Plain-text parts are not HTML: "Maple & Thread" must not become "Maple &amp; Thread".
    return get_template(template_name).template.render(Context(context, autoescape=False))


def render_email(name: str, context: dict, *, language: str) -> tuple[str, str, str]:
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject = _render_text(f"emails/{name}/subject.txt", context)
        text = _render_text(f"emails/{name}/body.txt", context)
        html = render_to_string(f"emails/{name}/body.html", context)
    subject = settings.ACCOUNT_EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    return subject, text, html


def send_email(*, to: str, name: str, context: dict, language: str, headers=None) -> None:
    subject, text, html = render_email(name, context, language=language)
    message = EmailMultiAlternatives(subject, text, to=[to], headers=headers or {})
    message.attach_alternative(html, "text/html")
    message.send()
