from django.urls import path

from accounts import staff_mfa, views

app_name = "accounts"

urlpatterns = [
    path("account/", views.overview, name="overview"),
    path("account/profile/", views.profile, name="profile"),
    path("account/addresses/", views.address_list, name="address-list"),
    path("account/addresses/new/", views.address_edit, name="address-create"),
    path("account/addresses/<int:pk>/", views.address_edit, name="address-edit"),
    path("account/addresses/<int:pk>/delete/", views.address_delete, name="address-delete"),
    path(
        "account/addresses/<int:pk>/default/",
        views.address_make_default,
        name="address-make-default",
    ),
    path("account/staff-2fa/", staff_mfa.enrol, name="staff-mfa-enrol"),
    path("account/staff-2fa/send/", staff_mfa.send_link, name="staff-mfa-send"),
    path("account/staff-2fa/<str:token>/", staff_mfa.confirm, name="staff-mfa-confirm"),
    path("account/notifications/", views.notifications, name="notifications"),
    path(
        "account/notifications/read/",
        views.notifications_mark_read,
        name="notifications-mark-read",
    ),
    path("account/notifications/<int:pk>/", views.notification_open, name="notification-open"),
    path("sell/", views.seller_home, name="seller-home"),
    path("sell/apply/", views.shop_apply, name="shop-apply"),
    path("sell/invitations/<str:token>/", views.invitation_accept, name="invitation-accept"),
    path("sell/<slug:slug>/", views.shop_dashboard, name="shop-dashboard"),
    path("sell/<slug:slug>/application/", views.shop_application, name="shop-application"),
    path("sell/<slug:slug>/export-profile/", views.shop_export_profile, name="shop-export-profile"),
    path("sell/<slug:slug>/team/", views.shop_team, name="shop-team"),
    path(
        "sell/<slug:slug>/team/<int:pk>/remove/",
        views.shop_member_remove,
        name="shop-member-remove",
    ),
]
