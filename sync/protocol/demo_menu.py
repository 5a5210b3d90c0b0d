"""The demo menu: a real hot-pot restaurant's menu in Georgian, English, Russian, as menu items in their dict form.
A demo terminal starts with it, and `hotpot-hq menu load-demo` makes it HQ's menu, so a demo HQ with a demo terminal
sells out of the box."""

from __future__ import annotations

from typing import Any


def _item(
    id: str, ka: str, en: str, ru: str, category: str, price: int, ingredients: list[tuple[str, int, int]],
    *, description: str = "", priority: int = 5, cooking: int = 15, available: int = 500,
    modifiers: list[dict[str, Any]] | None = None, codes: list[str] | None = None,
) -> dict[str, Any]:
    item = {
        "id": id, "name": {"ka": ka, "en": en, "ru": ru}, "category": category, "price": price,
        "available": available, "description": {"en": description} if description else {}, "priority": priority,
        "cooking_minutes": cooking, "ingredients": [{"name": n, "grams": g, "kcal": k} for n, g, k in ingredients],
        "active": True,
    }
    if modifiers:
        item["modifiers"] = modifiers
    if codes:
        item["codes"] = codes
    return item


def _group(id: str, names: tuple[str, str, str], low: int, high: int,
           options: list[tuple[str, tuple[str, str, str], int]]) -> dict[str, Any]:
    """A modifier group: names in ka, en, ru; options as (id, names, price added in tetri)."""
    return {"id": id, "name": dict(zip(("ka", "en", "ru"), names, strict=True)), "min": low, "max": high,
            "options": [{"id": oid, "name": dict(zip(("ka", "en", "ru"), n, strict=True)), "price": price}
                        for oid, n, price in options]}


SPICE = _group("spice", ("სიცხარე", "Spice level", "Острота"), 1, 1, [
    ("mild", ("რბილი", "Mild", "Мягкий"), 0), ("medium", ("საშუალო", "Medium", "Средний"), 0),
    ("hot", ("ცხარე", "Hot", "Острый"), 0)])
NOODLE_EXTRAS = _group("extras", ("დამატებით", "Extras", "Добавки"), 0, 2, [
    ("egg", ("კვერცხი", "Egg", "Яйцо"), 200), ("double", ("ორმაგი პორცია", "Double portion", "Двойная порция"), 500)])
FILLING = _group("filling", ("შიგთავსი", "Filling", "Начинка"), 1, 1, [
    ("beef-pork", ("ხორცი", "Beef and pork", "Говядина и свинина"), 0),
    ("mushroom", ("სოკო", "Mushroom", "Грибы"), 0), ("cheese", ("ყველი", "Cheese", "Сыр"), 100)])


DEMO_MENU_ITEMS: tuple[dict[str, Any], ...] = (
    _item("broth-spicy", "ცხარე ბულიონი", "Spicy Sichuan broth", "Острый сычуаньский бульон", "broth", 1800,
          [("beef bone stock", 900, 310), ("chili oil", 40, 350), ("sichuan pepper", 5, 15), ("garlic", 20, 30)],
          description="Beef bone stock with chili oil and Sichuan pepper", priority=1, cooking=10),
    _item("broth-mushroom", "სოკოს ბულიონი", "Wild mushroom broth", "Грибной бульон", "broth", 1600,
          [("mushroom stock", 900, 120), ("shiitake", 60, 20), ("ginger", 10, 8)],
          description="Vegetarian broth of shiitake and wild mushrooms", priority=1, cooking=10),
    _item("broth-tomato", "პომიდვრის ბულიონი", "Tomato broth", "Томатный бульон", "broth", 1600,
          [("tomato stock", 900, 180), ("tomato", 150, 27), ("onion", 40, 16)], priority=1, cooking=10,
          modifiers=[SPICE]),
    _item("broth-duo", "ორმაგი ბულიონი", "Yin-yang duo broth", "Двойной бульон инь-ян", "broth", 2400,
          [("beef bone stock", 500, 170), ("mushroom stock", 500, 70), ("chili oil", 25, 220)],
          description="Half spicy, half mild in a split pot", priority=1, cooking=12),
    _item("beef-slices", "საქონლის ხორცი", "Sliced beef", "Говядина ломтиками", "meat", 2200,
          [("beef brisket", 200, 500)], priority=3, cooking=5),
    _item("lamb-slices", "ცხვრის ხორცი", "Sliced lamb", "Баранина ломтиками", "meat", 2400,
          [("lamb shoulder", 200, 560)], priority=3, cooking=5),
    _item("pork-belly", "ღორის ფერდი", "Pork belly", "Свиная грудинка", "meat", 1900,
          [("pork belly", 200, 1036)], priority=4, cooking=5),
    _item("chicken-thigh", "ქათმის ბარკალი", "Chicken thigh", "Куриное бедро", "meat", 1500,
          [("chicken thigh", 200, 418)], priority=4, cooking=6),
    _item("beef-meatballs", "საქონლის ბურთულები", "Beef meatballs", "Говяжьи фрикадельки", "meat", 1400,
          [("beef", 150, 375), ("egg", 10, 14), ("starch", 10, 35)], priority=5, cooking=6),
    _item("shrimp", "კრევეტები", "Tiger shrimp", "Тигровые креветки", "seafood", 2600,
          [("tiger shrimp", 150, 150)], priority=4, cooking=4),
    _item("fish-balls", "თევზის ბურთულები", "Fish balls", "Рыбные шарики", "seafood", 1200,
          [("white fish", 150, 180), ("starch", 10, 35)], priority=5, cooking=5),
    _item("tofu", "ტოფუ", "Silken tofu", "Шелковый тофу", "vegetables", 800,
          [("tofu", 200, 152)], priority=6, cooking=4),
    _item("mushroom-platter", "სოკოს ასორტი", "Mushroom platter", "Ассорти из грибов", "vegetables", 1300,
          [("enoki", 100, 37), ("oyster mushroom", 100, 33), ("shiitake", 80, 27)], priority=6, cooking=5),
    _item("greens", "მწვანილის ასორტი", "Seasonal greens", "Сезонная зелень", "vegetables", 900,
          [("bok choy", 150, 20), ("spinach", 100, 23), ("napa cabbage", 150, 24)], priority=6, cooking=3),
    _item("potato-lotus", "კარტოფილი და ლოტოსი", "Potato and lotus root", "Картофель и корень лотоса",
          "vegetables", 900, [("potato", 150, 116), ("lotus root", 100, 74)], priority=7, cooking=8),
    _item("udon", "უდონი", "Udon noodles", "Лапша удон", "noodles", 700,
          [("udon", 250, 263)], priority=8, cooking=6, modifiers=[NOODLE_EXTRAS]),
    _item("glass-noodles", "შუშის ატრია", "Glass noodles", "Стеклянная лапша", "noodles", 600,
          [("sweet potato noodles", 100, 340)], priority=8, cooking=5, modifiers=[NOODLE_EXTRAS]),
    _item("dumplings", "ხინკალი", "Khinkali for the pot", "Хинкали для котла", "sides", 1500,
          [("dough", 250, 650), ("beef and pork", 200, 500), ("herbs", 10, 4)],
          description="Six small khinkali to cook in the broth", priority=5, cooking=12, modifiers=[FILLING]),
    _item("sauce-bar", "სოუსების ბარი", "Sauce bar", "Соусный бар", "sides", 400,
          [("sesame paste", 30, 180), ("garlic", 10, 15), ("coriander", 5, 1)], priority=9, cooking=0,
          available=2000),
    _item("lemonade-tarragon", "ტარხუნის ლიმონათი", "Tarragon lemonade", "Тархун", "drinks", 500,
          [("lemonade", 500, 210)], priority=10, cooking=0, available=1000, codes=["4860001234505"]),
    _item("borjomi", "ბორჯომი", "Borjomi mineral water", "Боржоми", "drinks", 400,
          [("mineral water", 500, 0)], priority=10, cooking=0, available=1000, codes=["4860019001346"]),
    _item("jasmine-tea", "ჟასმინის ჩაი", "Jasmine tea pot", "Жасминовый чай", "drinks", 600,
          [("jasmine tea", 600, 5)], priority=10, cooking=3, available=1000, codes=["JT600"]),
    _item("mango-pudding", "მანგოს პუდინგი", "Mango pudding", "Манговый пудинг", "desserts", 900,
          [("mango", 100, 60), ("cream", 50, 170), ("sugar", 20, 80)], priority=9, cooking=0),
)
