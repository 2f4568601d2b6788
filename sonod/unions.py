"""The demo unions: the 21 unions of Gopalganj Sadar upazila."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class UnionInfo:
    slug: str
    name_bn: str
    name_en: str
    upazila_bn: str = "গোপালগঞ্জ সদর"
    upazila_en: str = "Gopalganj Sadar"
    district_bn: str = "গোপালগঞ্জ"
    district_en: str = "Gopalganj"

    @property
    def upazila_slug(self) -> str:
        return self.upazila_en.lower().replace(" ", "-")


GOPALGANJ_SADAR: tuple[UnionInfo, ...] = tuple(
    UnionInfo(slug, bn, en)
    for slug, bn, en in [
        ("boultali", "বৌলতলী", "Boultali"),
        ("borashi", "বোড়াশী", "Borashi"),
        ("chandradighalia", "চন্দ্রদিঘলিয়া", "Chandradighalia"),
        ("durgapur", "দুর্গাপুর", "Durgapur"),
        ("gobra", "গোবরা", "Gobra"),
        ("gopinathpur", "গোপীনাথপুর", "Gopinathpur"),
        ("haridaspur", "হরিদাসপুর", "Haridaspur"),
        ("jalalabad", "জালালাবাদ", "Jalalabad"),
        ("kajulia", "কাজুলিয়া", "Kajulia"),
        ("karpara", "করপাড়া", "Karpara"),
        ("kathi", "কাঠি", "Kathi"),
        ("latifpur", "লতিফপুর", "Latifpur"),
        ("majhigati", "মাঝিগাতী", "Majhigati"),
        ("nizra", "নিজড়া", "Nizra"),
        ("paikkandi", "পাইককান্দি", "Paikkandi"),
        ("raghunathpur", "রঘুনাথপুর", "Raghunathpur"),
        ("satpar", "সাতপাড়", "Satpar"),
        ("shuktail", "শুকতাইল", "Shuktail"),
        ("sahapur", "সাহাপুর", "Sahapur"),
        ("ulpur", "উলপুর", "Ulpur"),
        ("urfi", "উরফি", "Urfi"),
    ]
)

BY_SLUG = {u.slug: u for u in GOPALGANJ_SADAR}
WARDS = range(1, 10)
