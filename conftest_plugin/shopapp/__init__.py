"""shopapp: a small shop that receives Moda and mod.io webhooks (the code under test)."""

from .app import ShopApp, create_app

__all__ = ["ShopApp", "create_app"]
