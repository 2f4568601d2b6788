"""Realistic sample documents for every certificate type, shared by the tests and the benchmark."""

from __future__ import annotations

import base64
import hashlib

HOLDER = {
    "name_bn": "মোছাঃ কৃষ্ণা ক্ষেত্রী", "name_en": "Mst. Krishna Khetri",
    "father_name_bn": "মোঃ প্রদীপ ক্ষেত্রী", "father_name_en": "Md. Pradip Khetri",
    "mother_name_bn": "কোহিনূর বেগম", "mother_name_en": "Kohinur Begum",
    "spouse_name_bn": None, "date_of_birth": "1994-03-17", "nid": "1994356710234", "gender": "female",
    "village_bn": "কৈকোনা", "post_office_bn": "পাইককান্দি", "ward_no": 3,
    "present_address_bn": None, "permanent_address_bn": None,
}

# what an applicant may claim that the NID record lacks, printed marked as a claim
CLAIMS = {"spouse_name_bn": "মোঃ রাশেদুল ইসলাম", "present_address_bn": "বাড়ি নং ১২, কৈকোনা",
          "father_name_en": "Md. Pradip Khetri"}

HEIR_NAMES = [
    ("মোঃ আব্দুল করিম শেখ", "son"), ("মোছাঃ রোকেয়া খাতুন", "wife"), ("শ্রী সুব্রত কুমার মণ্ডল", "son"),
    ("মোছাঃ নাসরিন আক্তার", "daughter"), ("মোঃ তৌহিদুল ইসলাম", "grandson"), ("কৃষ্ণপ্রিয়া দাস", "daughter"),
    ("মোঃ ইকবাল হোসেন", "brother"), ("মোছাঃ শম্পা বিশ্বাস", "sister"),
]

DECEASED = {
    "name_bn": "মোঃ রফিকুল ইসলাম মোল্লা", "name_en": "Md. Rafiqul Islam Molla", "nid": "7654321098",
    "date_of_death": "2026-08-03", "death_registration_no": "20263517100012345",
}

DETAILS: dict[str, dict] = {
    "citizenship": {"purpose": "পাসপোর্ট আবেদন"},
    "character": {"purpose": "চাকরির আবেদন"},
    "permanent_resident": {"purpose": "ব্যাংক হিসাব খোলা", "years_resident": 32},
    "same_person": {"other_name_bn": "কৃষ্ণা রানী ক্ষেত্রী", "other_name_en": "Krishna Rani Khetri",
                    "other_document_bn": "এসএসসি পরীক্ষার সনদ"},
    "warish": {"deceased": DECEASED, "heirs": []},  # filled by warish_heirs()
    "family": {"members": [
        {"name_bn": "মোঃ প্রদীপ ক্ষেত্রী", "relation": "father", "date_of_birth": "1962-01-05", "nid": "6512345678"},
        {"name_bn": "কোহিনূর বেগম", "relation": "mother", "date_of_birth": "1968-07-21", "nid": "4623456789"},
        {"name_bn": "সম্প্রীতি ক্ষেত্রী", "relation": "sister", "date_of_birth": "2001-11-30",
         "nid": "20013517123456789"},
        {"name_bn": "অন্তু ক্ষেত্রী", "relation": "brother", "date_of_birth": "2012-04-02", "nid": None},
    ]},
    "unmarried": {"purpose": "বিদেশ গমন"},
    "not_remarried": {"late_spouse_name_bn": "মোঃ জাহাঙ্গীর আলম", "spouse_date_of_death": "2019-06-12"},
    "income": {"annual_income": 184500, "source_bn": "কৃষি ও হাঁস-মুরগি পালন", "fiscal_year": "2025-2026"},
    "landless": {"homestead_land_decimal": 2.5, "cultivable_land_decimal": 0},
    "death": {"deceased": DECEASED, "place_of_death_bn": "গোপালগঞ্জ জেনারেল হাসপাতাল", "relation": "daughter"},
    "trade_licence": {
        "business_name_bn": "মেসার্স ক্ষেত্রী ট্রেডার্স", "business_name_en": "M/S Khetri Traders",
        "business_type_bn": "মুদি ও স্টেশনারি", "business_address_bn": "পাইককান্দি বাজার, গোপালগঞ্জ সদর",
        "fiscal_year": "2026-2027", "holding_tax_receipt_no": "HT-2026/0457", "capital_taka": 350000,
    },
}

BUILT_IN = sorted(DETAILS)


def sample_no(type_code: str) -> int:
    """A type's place in the samples' numbering: the twelve built-in types keep theirs, declared types follow."""
    from sonod.catalogue import BY_CODE

    declared = [code for code in BY_CODE if code not in BUILT_IN]
    return BUILT_IN.index(type_code) if type_code in BUILT_IN else len(BUILT_IN) + declared.index(type_code)


SIGNATORIES = {
    "ward_member": ("মোঃ সাইফুল ইসলাম", "Md. Saiful Islam", "সদস্য, ৩ নং ওয়ার্ড", "Member, Ward No. 3"),
    "secretary": ("প্রশান্ত কুমার বিশ্বাস", "Prashanta Kumar Biswas", "সচিব", "Secretary"),
    "chairman": ("মোঃ নজরুল ইসলাম মিয়া", "Md. Nazrul Islam Mia", "চেয়ারম্যান", "Chairman"),
}


def warish_heirs(count: int) -> list[dict]:
    heirs = []
    for i in range(count):
        name, relation = HEIR_NAMES[i % len(HEIR_NAMES)]
        suffix = "" if i < len(HEIR_NAMES) else f" ({i // len(HEIR_NAMES) + 1})"
        heirs.append({
            "name_bn": name + suffix, "relation": relation,
            "nid": f"{1985 + i % 30}35171{(i * 7919 + 1234) % 10**8:08d}",
            "date_of_birth": f"{2015 if i % 5 == 4 else 1985 + i % 20}-0{1 + i % 9}-1{i % 9}",
        })
    return heirs


def qr_payload(seed: str, chars: int = 300) -> str:
    """A realistic verification URL: the API's address and ~300 base32 characters of signed payload."""
    raw = b"".join(hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(chars // 50 + 1))
    return "http://127.0.0.1:8000/verify?c=" + base64.b32encode(raw).decode().rstrip("=")[:chars]
