"""Shop data is refused whole, with the file, item and field named."""

import shutil

import pytest
import yaml

from bot import settings
from bot.shop.loader import ShopDataError, load_shop

DATA = settings.ROOT / "bot" / "shop" / "data"


@pytest.fixture
def data_copy(tmp_path):
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def edit_catalog(folder, change):
    path = folder / "catalog.yml"
    catalog = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(catalog)
    path.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")


def test_the_shipped_data_is_valid(shop):
    assert len(shop.products) >= 30 and len(shop.categories) >= 5


def test_a_missing_field_names_file_product_and_field(data_copy):
    def drop_price(catalog):
        del catalog["products"][0]["price"]
        return catalog

    edit_catalog(data_copy, drop_price)
    first = yaml.safe_load((DATA / "catalog.yml").read_text(encoding="utf-8"))["products"][0]["id"]
    with pytest.raises(ShopDataError) as error:
        load_shop(data_copy)
    message = str(error.value)
    assert "catalog.yml" in message and first in message and "'price'" in message


def test_invalid_yaml_names_the_line(data_copy):
    (data_copy / "promotions.yml").write_text("promotions: [\n  - broken: : :\n", encoding="utf-8")
    with pytest.raises(ShopDataError) as error:
        load_shop(data_copy)
    assert "promotions.yml" in str(error.value) and "line" in str(error.value)


def test_an_unknown_related_product_is_refused(data_copy):
    edit_catalog(data_copy, lambda c: c["products"][1]["related"].append("no-such-product"))
    with pytest.raises(ShopDataError, match="no-such-product"):
        load_shop(data_copy)


def test_a_missing_english_text_is_refused(data_copy):
    edit_catalog(data_copy, lambda c: c["products"][2]["name"].pop("en"))
    with pytest.raises(ShopDataError, match="'name' needs both"):
        load_shop(data_copy)
