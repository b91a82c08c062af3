from django.contrib.admin.apps import AdminConfig


class TradepostAdminConfig(AdminConfig):
    default_site = "marketplace.admin_site.TradepostAdminSite"
