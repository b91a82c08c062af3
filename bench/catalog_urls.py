"""The product URLs plus ``/bench/reference/``: a bare view rendering a small template."""

from django.shortcuts import render
from django.urls import path

from marketplace.urls import urlpatterns as product_urlpatterns

ITEMS = [f"Item {n}" for n in range(10)]


def reference(request):
    return render(request, "reference.html", {"title": "Reference", "items": ITEMS})


urlpatterns = [path("bench/reference/", reference), *product_urlpatterns]
