"""Order pages: ``buyer`` (cart, checkout, orders), ``seller`` (orders, paperwork, balance),
``payments`` (payment outcome, provider pages and webhooks)."""
