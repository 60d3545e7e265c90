"""The shop's own data (catalog, promotions, couriers, policies, orders) and its store.

Nothing in here knows about conversations: the NLU components and the action server
read the shop through this package.
"""

from bot.shop.loader import Shop, ShopDataError, load_shop

__all__ = ["Shop", "ShopDataError", "load_shop"]
