"""Order ids."""

from bot.shop.orders import normalise_order_id


def test_order_ids_have_one_shape():
    assert normalise_order_id(" so20260001 ") == "SO20260001"
    for bad in ("SO123", "20260001", "SO2026000100", "SO-20260001", "", None, "'; drop table orders"):
        assert normalise_order_id(bad) is None
