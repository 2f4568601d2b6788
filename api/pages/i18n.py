"""The pages' words in Bengali (the default) and English, and how numbers, dates and durations are written."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sonod.bengali import format_date_bn, format_taka_bn, group_south_asian, to_bn_digits
from sonod.catalogue import RELATION_BN

LANGS = ("bn", "en")
DHAKA = ZoneInfo("Asia/Dhaka")

# key: (Bengali, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "site": ("সনদ", "sonod"),
    "site_long": ("ইউনিয়ন পরিষদের নাগরিক সনদ", "Union Parishad certificates"),
    "union_parishad": ("ইউনিয়ন পরিষদ", "Union Parishad"),
    "skip": ("মূল অংশে যান", "Skip to content"),
    "switch_lang": ("English", "বাংলা"),
    "choose_union": ("আপনার ইউনিয়ন বেছে নিন", "Choose your union"),
    "for_officers": ("কর্মকর্তাদের জন্য", "For officers"),
    "desk": ("উদ্যোক্তা ডেস্ক", "UDC desk"),
    "dashboard": ("কর্মকর্তাদের ড্যাশবোর্ড", "Officers' dashboard"),
    "choose_type": ("কোন সনদ প্রয়োজন?", "Which certificate do you need?"),
    "apply": ("আবেদন করুন", "Apply"),
    "apply_for": ("আবেদন", "Application"),
    "fee": ("ফি", "Fee"),
    "free": ("বিনা মূল্যে", "Free"),
    "taka": ("টাকা", "taka"),
    "deadline": ("সময়সীমা", "Deadline"),
    "within_days": ("{n} দিনের মধ্যে", "within {n} days"),
    "by_date": ("{d} তারিখের মধ্যে", "by {d}"),
    "track": ("আবেদনের অবস্থা দেখুন", "Track an application"),
    "track_short": ("অবস্থা দেখুন", "Track"),
    "application_no": ("আবেদন নম্বর", "Application number"),
    "mobile": ("মোবাইল নম্বর", "Mobile number"),
    "mobile_hint": ("আবেদনে দেওয়া মোবাইল নম্বর", "The mobile number given in the application"),
    "not_found_track": ("এই আবেদন নম্বর ও মোবাইল নম্বরে কোনো আবেদন পাওয়া যায়নি।",
                        "No application matches this application number and mobile number."),
    "applicant": ("আবেদনকারী", "Applicant"),
    "contact": ("যোগাযোগ", "Contact"),
    "details": ("সনদের তথ্য", "Certificate details"),
    "submit": ("আবেদন জমা দিন", "Submit the application"),
    "required_note": ("* চিহ্নিত ঘর পূরণ করা আবশ্যক।", "Fields marked * are required."),
    "required": ("আবশ্যক", "required"),
    "add_row": ("আরেকজন যোগ করুন", "Add another"),
    "row": ("ক্রম", "No."),
    "choose": ("— বেছে নিন —", "— choose —"),
    "form_errors": ("আবেদনে কিছু ভুল আছে। নিচের চিহ্নিত ঘরগুলো ঠিক করুন।",
                    "The application has mistakes. Please correct the marked fields below."),
    "err_required": ("এই ঘরটি পূরণ করুন", "Fill in this field"),
    "err_pattern": ("ঠিক ফরম্যাটে লিখুন (শুধু অঙ্ক, সঠিক সংখ্যক)", "Use the right format (digits only, the right number of them)"),
    "err_number": ("একটি সংখ্যা লিখুন", "Enter a number"),
    "err_date": ("একটি সঠিক তারিখ দিন", "Enter a valid date"),
    "err_range": ("সংখ্যাটি সীমার বাইরে", "The number is out of range"),
    "err_too_few": ("অন্তত একজনের তথ্য দিন", "Add at least one"),
    "err_too_long": ("লেখাটি বেশি লম্বা", "The text is too long"),
    "err_choice": ("তালিকা থেকে বেছে নিন", "Choose from the list"),
    "received": ("আপনার আবেদন জমা হয়েছে", "Your application has been received"),
    "keep_number": ("এই নম্বরটি লিখে রাখুন। আবেদনের অবস্থা দেখতে এই নম্বর ও আপনার মোবাইল নম্বর লাগবে।",
                    "Write this number down. You need it and your mobile number to track the application."),
    "status": ("অবস্থা", "Status"),
    "history": ("ঘটনাক্রম", "History"),
    "certificate_no": ("সনদ নম্বর", "Certificate number"),
    "download_pdf": ("সনদ ডাউনলোড করুন (PDF)", "Download the certificate (PDF)"),
    "revoked": ("সনদটি বাতিল করা হয়েছে", "The certificate has been revoked"),
    "valid": ("সনদটি বৈধ", "The certificate is valid"),
    "reason": ("কারণ", "Reason"),
    "promised_by": ("যে তারিখের মধ্যে", "Promised by"),
    "login": ("লগ ইন", "Log in"),
    "logout": ("লগ আউট", "Log out"),
    "username": ("ব্যবহারকারীর নাম", "Username"),
    "password": ("পাসওয়ার্ড", "Password"),
    "totp": ("যাচাই কোড (TOTP)", "Verification code (TOTP)"),
    "totp_hint": ("চেয়ারম্যান, সচিব ও প্রশাসকের জন্য: অথেনটিকেটর অ্যাপের ৬ অঙ্কের কোড",
                  "For chairmen, secretaries and administrators: the 6-digit code of the authenticator app"),
    "login_failed": ("ব্যবহারকারীর নাম, পাসওয়ার্ড বা যাচাই কোড ভুল।", "Wrong username, password or code."),
    "totp_needed": ("এই পদের জন্য যাচাই কোড (TOTP) লাগবে।", "This role needs the verification code (TOTP)."),
    "locked": ("বারবার ভুলের কারণে অ্যাকাউন্টটি সাময়িকভাবে বন্ধ। পরে চেষ্টা করুন।",
               "The account is locked after repeated failures; try again later."),
    "too_many": ("অনেকবার চেষ্টা হয়েছে; এক মিনিট পরে চেষ্টা করুন।", "Too many attempts; wait a minute."),
    "my_queue": ("আমার অপেক্ষমাণ আবেদন", "My queue"),
    "queue_empty": ("এখন আপনার সিদ্ধান্তের অপেক্ষায় কোনো আবেদন নেই।", "Nothing waits for your decision now."),
    "all_applications": ("সব আবেদন", "All applications"),
    "figures": ("পরিসংখ্যান", "Figures"),
    "type": ("ধরন", "Type"),
    "name": ("নাম", "Name"),
    "ward": ("ওয়ার্ড", "Ward"),
    "submitted": ("জমার তারিখ", "Submitted"),
    "left": ("বাকি {t}", "{t} left"),
    "overdue_by": ("{t} পেরিয়ে গেছে", "overdue by {t}"),
    "overdue": ("সময় পেরিয়ে গেছে", "Overdue"),
    "days": ("{n} দিন", "{n} d"),
    "hours": ("{n} ঘণ্টা", "{n} h"),
    "minutes": ("{n} মিনিট", "{n} min"),
    "claims": ("আবেদনকারীর দাবি", "The applicant's claims"),
    "nid_record": ("এনআইডি সার্ভারের তথ্য", "The NID gateway's record"),
    "field": ("বিষয়", "Field"),
    "differs": ("মিলছে না", "differs"),
    "matches": ("মিলেছে", "matches"),
    "no_nid_record": ("এনআইডি যাচাইয়ের তথ্য এখনো আসেনি।", "No NID record yet."),
    "nid_photo": ("এনআইডি সার্ভারের ছবি", "Photo from the NID gateway"),
    "decision": ("সিদ্ধান্ত", "Decision"),
    "reason_hint": ("নামঞ্জুর বা ফেরত পাঠাতে কারণ লিখুন", "Write a reason to reject or send back"),
    "reason_needed": ("নামঞ্জুর বা ফেরত পাঠাতে কারণ লিখতে হবে।", "A reason is needed to reject or send back."),
    "act_recommend": ("সুপারিশ করুন", "Recommend"),
    "act_verify": ("যাচাই সম্পন্ন", "Verify"),
    "act_approve": ("অনুমোদন করুন", "Approve"),
    "act_reject": ("নামঞ্জুর", "Reject"),
    "act_return": ("সংশোধনে ফেরত", "Send back"),
    "not_yours": ("এই ধাপের সিদ্ধান্ত অন্য কর্মকর্তার।", "Another officer decides this step."),
    "decided": ("সিদ্ধান্ত জমা হয়েছে।", "The decision is recorded."),
    "revoke": ("সনদ বাতিল করুন", "Revoke the certificate"),
    "revoke_reason": ("বাতিলের কারণ", "Reason for revoking"),
    "revoke_reason_short": ("কারণ অন্তত ৩ অক্ষরের হতে হবে।", "The reason needs at least 3 characters."),
    "revoked_ok": ("সনদটি বাতিল করা হয়েছে।", "The certificate is revoked."),
    "workflow": ("Temporal-এ কার্যপ্রবাহ দেখুন", "See the workflow in Temporal"),
    "backlog": ("অবস্থা অনুযায়ী অপেক্ষমাণ", "Backlog by status"),
    "overdue_by_step": ("ধাপ অনুযায়ী সময় পেরোনো", "Overdue by step"),
    "median_to_issue": ("ইস্যু হতে মধ্যমা সময়", "Median time to issue"),
    "issued_count": ("ইস্যু করা সনদ", "Certificates issued"),
    "none_yet": ("এখনো নেই", "none yet"),
    "new_application": ("নতুন আবেদন", "New application"),
    "my_submissions": ("আমার জমা দেওয়া আবেদন", "My submissions"),
    "no_submissions": ("এখনো কোনো আবেদন জমা দেননি।", "No submissions yet."),
    "print": ("প্রিন্ট করুন", "Print"),
    "receipt": ("আবেদনের রসিদ", "Application receipt"),
    "open": ("খুলুন", "Open"),
    "error": ("সমস্যা", "Problem"),
    "forbidden": ("এই কাজের অনুমতি আপনার নেই", "You may not do this"),
    "conflict": ("এই মুহূর্তে এটি করা যাবে না", "This cannot be done now"),
    "not_found": ("পাওয়া যায়নি", "Not found"),
    "bad_csrf": ("ফর্মটি পুরোনো হয়ে গেছে। পাতাটি আবার খুলে চেষ্টা করুন।",
                 "The form has expired. Open the page again and retry."),
    "back": ("ফিরে যান", "Back"),
    "home": ("প্রথম পাতা", "Home"),
    "signed_in_as": ("লগ ইন করেছেন", "Signed in as"),
    "all_statuses": ("সব অবস্থা", "All statuses"),
    "filter": ("দেখুন", "Show"),
    "nothing": ("কিছু নেই", "Nothing"),
    "next_page": ("পরের পাতা", "Next page"),
    "refresh_hint": ("অবস্থা পরিবর্তন দেখতে পাতাটি আবার খুলুন।", "Reload the page to see the status change."),
}

STATUS: dict[str, tuple[str, str]] = {
    "submitted": ("জমা হয়েছে", "Submitted"),
    "verifying_nid": ("এনআইডি যাচাই চলছে", "Checking the NID"),
    "nid_failed": ("এনআইডি মেলেনি", "NID check failed"),
    "awaiting_payment": ("ফি পরিশোধের অপেক্ষায়", "Awaiting payment"),
    "awaiting_recommendation": ("ইউপি সদস্যের সুপারিশের অপেক্ষায়", "Awaiting the ward member"),
    "awaiting_verification": ("সচিবের যাচাইয়ের অপেক্ষায়", "Awaiting the secretary"),
    "awaiting_decision": ("চেয়ারম্যানের অনুমোদনের অপেক্ষায়", "Awaiting the chairman"),
    "returned": ("সংশোধনের জন্য ফেরত", "Returned for correction"),
    "rejected": ("নামঞ্জুর", "Rejected"),
    "issuing": ("সনদ তৈরি হচ্ছে", "Issuing"),
    "issued": ("সনদ ইস্যু হয়েছে", "Issued"),
    "cancelled": ("বাতিল", "Cancelled"),
}

ROLES: dict[str, tuple[str, str]] = {
    "udc": ("উদ্যোক্তা (ইউডিসি)", "UDC entrepreneur"),
    "ward_member": ("ইউপি সদস্য", "Ward member"),
    "secretary": ("সচিব", "Secretary"),
    "chairman": ("চেয়ারম্যান", "Chairman"),
    "acting_chairman": ("ভারপ্রাপ্ত চেয়ারম্যান", "Acting chairman"),
    "administrator": ("প্রশাসক", "Administrator"),
    "upazila_admin": ("উপজেলা প্রশাসন", "Upazila administration"),
    "operator": ("অপারেটর", "Operator"),
    "portal": ("পোর্টাল", "Portal"),
}

# The fields of applications and of the catalogue's `details`, by their last name segment.
FIELDS: dict[str, tuple[str, str]] = {
    "nid": ("এনআইডি / জন্ম নিবন্ধন নম্বর", "NID / birth registration no."),
    "date_of_birth": ("জন্ম তারিখ", "Date of birth"),
    "name_bn": ("নাম (বাংলায়)", "Name (Bengali)"),
    "name_en": ("নাম (ইংরেজিতে)", "Name (English)"),
    "father_name_bn": ("পিতার নাম (বাংলায়)", "Father's name (Bengali)"),
    "mother_name_bn": ("মাতার নাম (বাংলায়)", "Mother's name (Bengali)"),
    "father_name_en": ("পিতার নাম (ইংরেজিতে)", "Father's name (English)"),
    "mother_name_en": ("মাতার নাম (ইংরেজিতে)", "Mother's name (English)"),
    "ward_no": ("ওয়ার্ড নম্বর", "Ward no."),
    "mobile": ("মোবাইল নম্বর", "Mobile number"),
    "email": ("ইমেইল", "Email"),
    "purpose": ("কী কাজে প্রয়োজন", "Purpose"),
    "years_resident": ("কত বছর ধরে বসবাস", "Years lived in the union"),
    "other_name_bn": ("অন্য বানানের নাম (বাংলায়)", "Other spelling of the name (Bengali)"),
    "other_name_en": ("অন্য বানানের নাম (ইংরেজিতে)", "Other spelling of the name (English)"),
    "other_document_bn": ("যে কাগজে অন্য নামটি আছে", "Document carrying the other name"),
    "deceased": ("মৃত ব্যক্তি", "The deceased"),
    "date_of_death": ("মৃত্যুর তারিখ", "Date of death"),
    "death_registration_no": ("মৃত্যু নিবন্ধন নম্বর (১৭ অঙ্ক)", "Death registration no. (17 digits)"),
    "heirs": ("উত্তরাধিকারীগণ", "Heirs"),
    "relation": ("সম্পর্ক", "Relation"),
    "members": ("পরিবারের সদস্যগণ", "Family members"),
    "late_spouse_name_bn": ("প্রয়াত স্বামী/স্ত্রীর নাম", "Late spouse's name"),
    "spouse_date_of_death": ("স্বামী/স্ত্রীর মৃত্যুর তারিখ", "Spouse's date of death"),
    "annual_income": ("বার্ষিক আয় (টাকা)", "Annual income (taka)"),
    "source_bn": ("আয়ের উৎস", "Source of income"),
    "fiscal_year": ("অর্থবছর (যেমন 2025-2026)", "Fiscal year (e.g. 2025-2026)"),
    "homestead_land_decimal": ("বসতভিটার জমি (শতাংশ)", "Homestead land (decimals)"),
    "cultivable_land_decimal": ("চাষযোগ্য জমি (শতাংশ)", "Cultivable land (decimals)"),
    "place_of_death_bn": ("মৃত্যুর স্থান", "Place of death"),
    "business_name_bn": ("প্রতিষ্ঠানের নাম (বাংলায়)", "Business name (Bengali)"),
    "business_name_en": ("প্রতিষ্ঠানের নাম (ইংরেজিতে)", "Business name (English)"),
    "business_type_bn": ("ব্যবসার ধরন", "Type of business"),
    "business_address_bn": ("ব্যবসার ঠিকানা", "Business address"),
    "holding_tax_receipt_no": ("হোল্ডিং কর রসিদ নম্বর", "Holding tax receipt no."),
    "capital_taka": ("মূলধন (টাকা)", "Capital (taka)"),
    "gender": ("লিঙ্গ", "Gender"),
    "village_bn": ("গ্রাম", "Village"),
    "present_address_bn": ("বর্তমান ঠিকানা", "Present address"),
}

ENUMS: dict[str, tuple[str, str]] = {code: (bn, code.replace("_", " ")) for code, bn in RELATION_BN.items()}


class Words:
    """The words of one language, for one request's templates."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else "bn"
        self.i = 0 if self.lang == "bn" else 1

    def __call__(self, key: str, **kw) -> str:
        text = MESSAGES.get(key, (key, key))[self.i]
        return text.format(**{k: self.num(v) for k, v in kw.items()}) if kw else text

    def pick(self, bn: str | None, en: str | None) -> str:
        return (bn or en or "") if self.i == 0 else (en or bn or "")

    def status(self, value: str) -> str:
        return STATUS.get(str(value), (value, value))[self.i]

    def role(self, value: str) -> str:
        return ROLES.get(str(value), (value, value))[self.i]

    def field(self, name: str, title: str | None = None) -> str:
        return FIELDS.get(name, (title or name.replace("_", " "),) * 2)[self.i]

    def option(self, value: str) -> str:
        return ENUMS.get(str(value), (value, value))[self.i]

    def num(self, n: object) -> str:
        if isinstance(n, int) and not isinstance(n, bool):
            n = group_south_asian(n)
        return to_bn_digits(n) if self.i == 0 else str(n)

    def taka(self, n: int) -> str:
        if not n:
            return self("free")
        return f"৳ {format_taka_bn(n)}" if self.i == 0 else f"Tk {group_south_asian(n)}"

    def date(self, d: dt.date | dt.datetime | str | None) -> str:
        if d is None or d == "":
            return ""
        if isinstance(d, str):
            try:
                d = dt.date.fromisoformat(d)
            except ValueError:
                return d
        if isinstance(d, dt.datetime):
            d = d.astimezone(DHAKA).date()
        return format_date_bn(d) if self.i == 0 else f"{d.day} {d:%B %Y}"

    def datetime(self, t: dt.datetime | str | None) -> str:
        if not t:
            return ""
        if isinstance(t, str):
            t = dt.datetime.fromisoformat(t)
        local = t.astimezone(DHAKA)
        return f"{self.date(local)} {self.num(f'{local:%H:%M}')}"

    def duration(self, delta: dt.timedelta) -> str:
        """Days and hours (or minutes, when under an hour)."""
        minutes = int(abs(delta).total_seconds() // 60)
        days, hours = divmod(minutes // 60, 24)
        parts = []
        if days:
            parts.append(self("days", n=days))
        if hours or (days and not parts):
            parts.append(self("hours", n=hours))
        if not parts:
            parts.append(self("minutes", n=minutes % 60))
        return " ".join(parts)

    def countdown(self, deadline: dt.datetime | None, now: dt.datetime) -> str:
        if deadline is None:
            return ""
        left = deadline - now
        return self("left", t=self.duration(left)) if left.total_seconds() >= 0 \
            else self("overdue_by", t=self.duration(left))
