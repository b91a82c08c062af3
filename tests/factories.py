"""factory-boy factories for accounts. Other apps keep theirs in tests/<app>/factories.py."""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import Address, Shop, ShopMembership, User

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    name = factory.Faker("name")
    country = "DE"
    preferred_language = "en"
    preferred_currency = "EUR"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """allauth refuses unverified emails at login; factory users are verified."""
        if create and extracted is not False:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.update_or_create(
                user=self, email=self.email, defaults={"verified": True, "primary": True}
            )


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    user = factory.SubFactory(UserFactory)
    name = factory.LazyAttribute(lambda a: a.user.name)
    line1 = "Friedrichstraße 123"
    city = "Berlin"
    postcode = "10117"
    country = "DE"
    phone = "+49 30 1234567"
    is_default_shipping = True


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop

    legal_name = factory.Sequence(lambda n: f"Workshop {n} GmbH")
    display_name = factory.Sequence(lambda n: f"Workshop {n}")
    slug = factory.Sequence(lambda n: f"workshop-{n}")
    business_type = Shop.BusinessType.COMPANY
    country = "DE"
    address_line1 = "Hauptstraße 1"
    city = "Leipzig"
    postcode = "04109"
    time_zone = "Europe/Berlin"
    currency = "EUR"
    status = Shop.Status.APPROVED
    reviewed_at = factory.LazyFunction(timezone.now)
    eori = "DE123456789012345"
    signatory_name = "Anna Schmidt"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ShopMembership

    shop = factory.SubFactory(ShopFactory)
    user = factory.SubFactory(UserFactory)
    role = ShopMembership.Role.OWNER
