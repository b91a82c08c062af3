"""Order actions after placement, one module per sub-domain (import the module you need):

- ``transitions``: compare-and-swap status moves with their event, the order roll-up, locks.
- ``stock``: units going back on the shelf.
- ``payment_outcome``: paid, payment failed, expired; the cart released.
- ``paperwork``: customs paperwork of a paid international parcel; screening holds.
- ``fulfilment``: shipped, delivered.
- ``refunds``: cancellation and refunds.
- ``checkout``: the buyer's "place order" (place the order, then start its payment).

Every status change is a compare-and-swap (``UPDATE ... WHERE status = <old>``) checked
against the model's transition table and written with an ``OrderEvent`` in the same
transaction. Row locks follow ``locks``: order, then shop orders (pk order), then payment,
then variants (pk order, one query). The order's status is rolled up from its shop orders:
it shows the least advanced live parcel.
"""
