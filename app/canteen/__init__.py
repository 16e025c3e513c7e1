"""Canteen meal ordering (订餐): menus with portions, orders paid through payments, pickup codes."""
