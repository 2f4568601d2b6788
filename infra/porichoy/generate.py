"""The synthetic NID registry, generated deterministically.

`python -m infra.porichoy.generate` rewrites registry.jsonl byte for byte.
Ages are taken on REFERENCE_DATE, which is in the past, so that anyone under 18 today
holds a birth registration number whatever day the tests run.
"""

from __future__ import annotations

import argparse
import json
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from infra.porichoy import REGISTRY_PATH
from sonod.nid import check_death_registration_no, check_identity_number, is_minor
from sonod.unions import GOPALGANJ_SADAR, UnionInfo

SEED = 20240521
REFERENCE_DATE = date(2026, 1, 1)
HOUSEHOLDS_PER_UNION = 10
DISTRICT_CODE, RMO_CODE, UPAZILA_CODE = "35", "9", "32"  # Gopalganj, rural, Gopalganj Sadar
POST_CODE = "8100"

Name = tuple[str, str]  # (Bengali, English)

MUSLIM_MALE: list[Name] = [
    ("রফিকুল", "Rafiqul"), ("আব্দুল করিম", "Abdul Karim"), ("আব্দুর রহিম", "Abdur Rahim"),
    ("জাহাঙ্গীর", "Jahangir"), ("আনোয়ার", "Anwar"), ("কামরুল", "Kamrul"), ("সাইফুল", "Saiful"),
    ("মনিরুল", "Monirul"), ("শহিদুল", "Shahidul"), ("নজরুল", "Nazrul"), ("আমিনুল", "Aminul"),
    ("মিজানুর", "Mizanur"), ("হাবিবুর", "Habibur"), ("মাহফুজুর", "Mahfuzur"), ("জসিম", "Jasim"),
    ("বাবুল", "Babul"), ("আলমগীর", "Alamgir"), ("ফারুক", "Faruk"), ("সোহেল", "Sohel"),
    ("রাসেল", "Rasel"), ("তানভীর", "Tanvir"), ("ইমরান", "Imran"), ("মেহেদী", "Mehedi"),
    ("আরিফ", "Arif"), ("শামীম", "Shamim"), ("রাকিব", "Rakib"), ("সাকিব", "Sakib"),
    ("নাঈম", "Naim"), ("হাসান", "Hasan"), ("মাহমুদ", "Mahmud"),
]
MUSLIM_FEMALE: list[Name] = [
    ("ফাতেমা", "Fatema"), ("রহিমা", "Rahima"), ("নাসরিন", "Nasrin"), ("শাহনাজ", "Shahnaz"),
    ("রোকসানা", "Roksana"), ("সালমা", "Salma"), ("আয়েশা", "Ayesha"), ("হালিমা", "Halima"),
    ("তাসলিমা", "Taslima"), ("রুমানা", "Rumana"), ("শিরিন", "Shirin"), ("নুসরাত", "Nusrat"),
    ("সুমাইয়া", "Sumaiya"), ("মরিয়ম", "Moriom"), ("খাদিজা", "Khadija"), ("রাবেয়া", "Rabeya"),
    ("কুলসুম", "Kulsum"), ("শাহিদা", "Shahida"), ("মাহমুদা", "Mahmuda"), ("মনোয়ারা", "Monowara"),
    ("মুক্তা", "Mukta"), ("সুরাইয়া", "Suraiya"), ("তানজিলা", "Tanjila"), ("ফারজানা", "Farzana"),
    ("আফরোজা", "Afroza"),
]
MUSLIM_SURNAMES: list[Name] = [
    ("ইসলাম", "Islam"), ("হোসেন", "Hossain"), ("রহমান", "Rahman"), ("আলী", "Ali"), ("শেখ", "Sheikh"),
    ("মোল্লা", "Molla"), ("খান", "Khan"), ("মিয়া", "Mia"), ("সরদার", "Sardar"), ("চৌধুরী", "Chowdhury"),
    ("তালুকদার", "Talukder"), ("হাওলাদার", "Howlader"), ("মুন্সী", "Munshi"), ("ফকির", "Fakir"),
    ("কাজী", "Kazi"), ("শিকদার", "Sikder"), ("বিশ্বাস", "Biswas"),
]
MUSLIM_FEMALE_SURNAMES: list[Name] = [
    ("বেগম", "Begum"), ("খাতুন", "Khatun"), ("আক্তার", "Akter"), ("সুলতানা", "Sultana"),
    ("ইয়াসমিন", "Yasmin"), ("পারভীন", "Parvin"),
]
HINDU_MALE: list[Name] = [
    ("সুব্রত", "Subrata"), ("প্রদীপ", "Pradip"), ("অমল", "Amal"), ("নির্মল", "Nirmal"), ("বিকাশ", "Bikash"),
    ("দিলীপ", "Dilip"), ("সুশান্ত", "Sushanta"), ("গৌতম", "Goutam"), ("তপন", "Tapan"), ("অরুণ", "Arun"),
    ("শ্যামল", "Shyamal"), ("উত্তম", "Uttam"), ("রতন", "Ratan"), ("কৃষ্ণ", "Krishna"), ("সঞ্জয়", "Sanjoy"),
    ("প্রশান্ত", "Prashanta"), ("হরিদাস", "Haridas"), ("জয়ন্ত", "Joyonto"), ("পলাশ", "Palash"), ("অসিত", "Asit"),
]
HINDU_FEMALE: list[Name] = [
    ("অঞ্জলী", "Anjali"), ("মিনতি", "Minoti"), ("সবিতা", "Sabita"), ("কল্পনা", "Kalpana"), ("শিখা", "Shikha"),
    ("দীপালী", "Dipali"), ("লক্ষ্মী", "Lakshmi"), ("গীতা", "Gita"), ("মমতা", "Mamata"), ("সন্ধ্যা", "Sandhya"),
    ("রীনা", "Rina"), ("পূর্ণিমা", "Purnima"), ("শ্যামলী", "Shyamoli"), ("বাসন্তী", "Basanti"),
    ("প্রিয়াঙ্কা", "Priyanka"), ("তৃষা", "Trisha"),
]
HINDU_SURNAMES: list[Name] = [
    ("বিশ্বাস", "Biswas"), ("দাস", "Das"), ("সরকার", "Sarkar"), ("মন্ডল", "Mondal"), ("রায়", "Roy"),
    ("ঘোষ", "Ghosh"), ("পাল", "Pal"), ("সাহা", "Saha"), ("বালা", "Bala"), ("হালদার", "Halder"),
    ("মজুমদার", "Majumder"), ("বাড়ৈ", "Baroi"), ("মল্লিক", "Mallick"), ("কীর্তনীয়া", "Kirtania"),
    ("বৈরাগী", "Bairagi"),
]
PREFIX: dict[tuple[bool, str], tuple[Name, float]] = {  # (hindu, gender) -> (prefix, probability)
    (False, "male"): (("মোঃ", "Md."), 0.55),
    (False, "female"): (("মোছাঃ", "Mst."), 0.35),
    (True, "male"): (("শ্রী", "Sri"), 0.25),
    (True, "female"): (("শ্রীমতি", "Srimoti"), 0.3),
}
VILLAGES: list[Name] = [
    ("চরপাড়া", "Charpara"), ("উত্তরপাড়া", "Uttarpara"), ("দক্ষিণপাড়া", "Dakshinpara"),
    ("পূর্বপাড়া", "Purbapara"), ("পশ্চিমপাড়া", "Paschimpara"), ("মধ্যপাড়া", "Madhyapara"),
    ("নতুনগ্রাম", "Natungram"), ("হাটবাড়িয়া", "Hatbaria"), ("কালীনগর", "Kalinagar"), ("রামনগর", "Ramnagar"),
    ("শ্রীরামপুর", "Srirampur"), ("গোবিন্দপুর", "Gobindapur"), ("মধুপুর", "Madhupur"), ("চন্দনপুর", "Chandanpur"),
    ("বাগবাড়ি", "Bagbari"), ("ঘোনাপাড়া", "Ghonapara"), ("মানিকদাহ", "Manikdah"), ("বেদগ্রাম", "Bedgram"),
    ("কুশলী", "Kushli"), ("বালিয়াডাঙ্গা", "Baliadanga"), ("তালতলা", "Taltala"), ("কদমতলা", "Kadamtala"),
    ("বটতলা", "Battala"), ("আমতলী", "Amtali"), ("নারিকেলবাড়ি", "Narikelbari"), ("পাটগাতী", "Patgati"),
    ("খাগাইল", "Khagail"), ("সিলনা", "Silna"), ("ডুমদিয়া", "Dumdia"), ("শিমুলিয়া", "Shimulia"),
    ("গজারিয়া", "Gajaria"), ("কাজীবাড়ি", "Kazibari"), ("মোল্লাবাড়ি", "Mollabari"), ("হাজীপাড়া", "Hajipara"),
    ("ঠাকুরবাড়ি", "Thakurbari"), ("বিলপাড়", "Bilpar"), ("নদীপাড়", "Nadipar"),
]
TOWNS: list[Name] = [  # where some adults live now
    ("মিরপুর-১০, ঢাকা", "Mirpur-10, Dhaka"), ("মোহাম্মদপুর, ঢাকা", "Mohammadpur, Dhaka"),
    ("যাত্রাবাড়ী, ঢাকা", "Jatrabari, Dhaka"), ("উত্তরা, ঢাকা", "Uttara, Dhaka"),
    ("টঙ্গী, গাজীপুর", "Tongi, Gazipur"), ("মিয়াপাড়া, গোপালগঞ্জ পৌরসভা", "Miapara, Gopalganj Municipality"),
    ("সোনাডাঙ্গা, খুলনা", "Sonadanga, Khulna"),
]
_BN_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")


def bn_digits(value: object) -> str:
    return str(value).translate(_BN_DIGITS)


@dataclass
class Home:
    union: UnionInfo
    ward_no: int
    village: Name
    household_id: str

    def address(self) -> Name:
        u, v, ward = self.union, self.village, self.ward_no
        return (
            f"গ্রাম: {v[0]}, ডাকঘর: {u.name_bn} - {bn_digits(POST_CODE)}, ইউনিয়ন: {u.name_bn}, "
            f"ওয়ার্ড নং: {bn_digits(ward)}, উপজেলা: {u.upazila_bn}, জেলা: {u.district_bn}",
            f"Village: {v[1]}, Post Office: {u.name_en} - {POST_CODE}, Union: {u.name_en}, "
            f"Ward No: {ward}, Upazila: {u.upazila_en}, District: {u.district_en}",
        )


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.numbers: set[str] = set()
        self.people: list[dict[str, Any]] = []
        self.villages = {u.slug: self.rng.sample(VILLAGES, 4) for u in GOPALGANJ_SADAR}

    def run(self) -> list[dict[str, Any]]:
        for i in range(HOUSEHOLDS_PER_UNION * len(GOPALGANJ_SADAR)):
            union = GOPALGANJ_SADAR[i % len(GOPALGANJ_SADAR)]
            home = Home(union, self.rng.randint(1, 9), self.rng.choice(self.villages[union.slug]), f"hh-{i + 1:04d}")
            self.household(home)
        return self.people

    # --- families

    def household(self, home: Home) -> None:
        rng = self.rng
        hindu = rng.random() < 0.3
        head_born = self.birthday(rng.randint(1940, 1998))
        deceased = head_born.year <= 1980 and rng.random() < 0.12
        died = self.day_between(date(2012, 1, 1), date(2025, 10, 31)) if deceased else None
        wife_born = self.birthday(min(head_born.year + rng.randint(2, 10), 2000))

        surname = self.surname(hindu)
        taken: set[str] = set()  # given names used in the family, so that no two of them share one
        head_name = self.name(hindu, "male", surname, taken)
        wife_name = self.name(hindu, "female", surname if hindu else None, taken)
        head_parents, wife_parents = self.parents(hindu, surname, taken), self.parents(hindu, None, taken)
        head = self.person(home, "head", head_name, "male", head_born, head_parents, wife_name)
        self.person(home, "wife", wife_name, "female", wife_born, wife_parents, head_name)
        if died:
            head["date_of_death"] = died.isoformat()
            head["death_registration_no"] = self.unique(
                lambda: f"{died.year}{self.area_code(home)}{rng.randrange(10**6):06d}"
            )
            check_death_registration_no(head["death_registration_no"], died)

        last_birth = (died or REFERENCE_DATE) - timedelta(days=1)
        wanted = rng.choices(range(6), weights=[1, 2, 3, 3, 2, 1])[0]
        for _ in range(max(wanted, 3) if died else wanted):
            first, last = wife_born.year + 18, min(wife_born.year + 38, last_birth.year)
            if first > last:
                break
            born = min(self.birthday(rng.randint(first, last)), last_birth)
            gender = rng.choice(["male", "female"])
            name = self.name(hindu, gender, surname if hindu or rng.random() < 0.4 else None, taken)
            spouse = None
            if born.year <= REFERENCE_DATE.year - 22 and rng.random() < 0.5:
                spouse = self.name(hindu, "male" if gender == "female" else "female", None, set())
            relation = "son" if gender == "male" else "daughter"
            self.person(home, relation, name, gender, born, (head_name, wife_name), spouse)

    def person(
        self, home: Home, relation: str, name: Name, gender: str, born: date, parents: tuple[Name, Name],
        spouse: Name | None,
    ) -> dict[str, Any]:
        rng = self.rng
        minor = is_minor(born, REFERENCE_DATE)
        number = self.brn(home, born) if minor else self.nid(home, born)
        check_identity_number(number, born, brn=minor)
        permanent = home.address()
        present = permanent
        if not minor and rng.random() < 0.1:
            town = rng.choice(TOWNS)
            house, road = rng.randint(1, 120), rng.randint(1, 20)
            present = (
                f"বাসা: {bn_digits(house)}, রোড: {bn_digits(road)}, {town[0]}",
                f"House {house}, Road {road}, {town[1]}",
            )
        (father, mother), u = parents, home.union
        person = {
            "nid": number,
            "id_type": "brn" if minor else "nid",
            "brn": number if minor else None,
            "date_of_birth": born.isoformat(),
            "name_bn": name[0],
            "name_en": name[1],
            "father_name_bn": father[0],
            "father_name_en": father[1],
            "mother_name_bn": mother[0],
            "mother_name_en": mother[1],
            "spouse_name_bn": spouse[0] if spouse else None,
            "spouse_name_en": spouse[1] if spouse else None,
            "gender": gender,
            "union": u.slug,
            "ward_no": home.ward_no,
            "village_bn": home.village[0],
            "village_en": home.village[1],
            "post_office_bn": u.name_bn,
            "post_office_en": u.name_en,
            "post_code": POST_CODE,
            "upazila_bn": u.upazila_bn,
            "upazila_en": u.upazila_en,
            "district_bn": u.district_bn,
            "district_en": u.district_en,
            "present_address_bn": present[0],
            "present_address_en": present[1],
            "permanent_address_bn": permanent[0],
            "permanent_address_en": permanent[1],
            "household_id": home.household_id,
            "relation": relation,
            "date_of_death": None,
            "death_registration_no": None,
        }
        self.people.append(person)
        return person

    # --- names

    def surname(self, hindu: bool) -> Name:
        return self.rng.choice(HINDU_SURNAMES if hindu else MUSLIM_SURNAMES)

    def name(self, hindu: bool, gender: str, surname: Name | None, taken: set[str]) -> Name:
        """A full name whose given name is not in `taken` (and is then added to it)."""
        rng = self.rng
        pool = {
            (True, "male"): HINDU_MALE, (True, "female"): HINDU_FEMALE,
            (False, "male"): MUSLIM_MALE, (False, "female"): MUSLIM_FEMALE,
        }[(hindu, gender)]
        given = rng.choice([g for g in pool if g[1] not in taken])
        taken.add(given[1])
        parts = [given]
        if hindu:
            if gender == "female" and rng.random() < 0.5:
                parts.append(("রানী", "Rani"))
            parts.append(surname or rng.choice(HINDU_SURNAMES))
        elif gender == "male":
            parts.append(surname or rng.choice(MUSLIM_SURNAMES))
        else:
            parts.append(rng.choice(MUSLIM_FEMALE_SURNAMES))
        prefix, probability = PREFIX[(hindu, gender)]
        if rng.random() < probability:
            parts.insert(0, prefix)
        return (
            unicodedata.normalize("NFC", " ".join(p[0] for p in parts)),
            " ".join(p[1] for p in parts),
        )

    def parents(self, hindu: bool, surname: Name | None, taken: set[str]) -> tuple[Name, Name]:
        if hindu:  # a Hindu wife takes her husband's surname
            family = surname or self.surname(hindu)
            return self.name(hindu, "male", family, taken), self.name(hindu, "female", family, taken)
        return self.name(hindu, "male", surname, taken), self.name(hindu, "female", None, taken)

    # --- numbers and dates

    def area_code(self, home: Home) -> str:
        return f"{DISTRICT_CODE}{RMO_CODE}{UPAZILA_CODE}{GOPALGANJ_SADAR.index(home.union) + 11:02d}"

    def nid(self, home: Home, born: date) -> str:
        rng = self.rng
        length = rng.choices([10, 13, 17], weights=[35, 25, 40])[0]
        if length == 10:
            return self.unique(lambda: f"{rng.randint(1, 9)}{rng.randrange(10**9):09d}")
        prefix = f"{born.year}" if length == 17 else ""
        return self.unique(lambda: f"{prefix}{self.area_code(home)}{rng.randrange(10**6):06d}")

    def brn(self, home: Home, born: date) -> str:
        return self.unique(lambda: f"{born.year}{self.area_code(home)}{self.rng.randrange(10**6):06d}")

    def unique(self, make: Callable[[], str]) -> str:
        number = make()
        while number in self.numbers:
            number = make()
        self.numbers.add(number)
        return number

    def birthday(self, year: int) -> date:
        return self.day_between(date(year, 1, 1), date(year, 12, 31))

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=self.rng.randint(0, (last - first).days))


def generate(seed: int = SEED) -> list[dict[str, Any]]:
    return Generator(seed).run()


def render(people: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in people).encode("utf-8")


def write(path: Path = REGISTRY_PATH, seed: int = SEED) -> int:
    people = generate(seed)
    path.write_bytes(render(people))
    return len(people)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REGISTRY_PATH)
    args = parser.parse_args()
    count = write(args.out)
    print(f"wrote {count} people to {args.out}")


if __name__ == "__main__":
    main()
