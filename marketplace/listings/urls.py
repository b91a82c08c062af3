from django.urls import path

from marketplace.listings import seller_views as seller
from marketplace.listings import views

app_name = "listings"

urlpatterns = [
    # Public catalog
    path("c/", views.category_index, name="category-index"),
    path("c/<path:path>/", views.category, name="category"),
    path("search/", views.search, name="search"),
    path("l/<int:pk>/", views.listing_short, name="listing-short"),
    path("l/<int:pk>-<slug:slug>/", views.listing_detail, name="listing"),
    path("shops/<slug:slug>/", views.shop_detail, name="shop"),
    path("preferences/", views.preferences, name="preferences"),
    # Seller pages
    path("sell/<slug:slug>/listings/", seller.listing_list, name="seller-listings"),
    path("sell/<slug:slug>/listings/new/", seller.listing_edit, name="seller-listing-create"),
    path("sell/<slug:slug>/listings/<int:pk>/", seller.listing_edit, name="seller-listing-edit"),
    path(
        "sell/<slug:slug>/listings/<int:pk>/status/",
        seller.listing_status,
        name="seller-listing-status",
    ),
    path(
        "sell/<slug:slug>/listings/<int:pk>/photos/",
        seller.image_upload,
        name="seller-image-upload",
    ),
    path(
        "sell/<slug:slug>/listings/<int:pk>/photos/<int:image_pk>/",
        seller.image_edit,
        name="seller-image-edit",
    ),
    path("sell/<slug:slug>/hs-finder/", seller.hs_finder, name="seller-hs-finder"),
    path("sell/<slug:slug>/ics2-check/", seller.ics2_check, name="seller-ics2-check"),
    path("sell/<slug:slug>/shipping/", seller.shipping_list, name="seller-shipping"),
    path("sell/<slug:slug>/shipping/new/", seller.shipping_edit, name="seller-shipping-create"),
    path("sell/<slug:slug>/shipping/<int:pk>/", seller.shipping_edit, name="seller-shipping-edit"),
    path(
        "sell/<slug:slug>/shipping/<int:pk>/delete/",
        seller.shipping_delete,
        name="seller-shipping-delete",
    ),
    path(
        "sell/<slug:slug>/shipping/<int:pk>/zones/new/",
        seller.zone_edit,
        name="seller-zone-create",
    ),
    path(
        "sell/<slug:slug>/shipping/<int:pk>/zones/<int:zone_pk>/",
        seller.zone_edit,
        name="seller-zone-edit",
    ),
    path(
        "sell/<slug:slug>/shipping/<int:pk>/zones/<int:zone_pk>/delete/",
        seller.zone_delete,
        name="seller-zone-delete",
    ),
    path("sell/<slug:slug>/import/", seller.import_list, name="seller-import"),
    path("sell/<slug:slug>/import/<int:pk>/", seller.import_detail, name="seller-import-detail"),
    path(
        "sell/<slug:slug>/import/<int:pk>/status/",
        seller.import_status,
        name="seller-import-status",
    ),
    path("sell/<slug:slug>/export.csv", seller.export_csv, name="seller-export"),
]
