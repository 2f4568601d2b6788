"""The pages' words in Bengali (the default) and English, and how numbers, dates and durations are written."""

from __future__ import annotations

import datetime as dt
import re

from sonod.bengali import DHAKA, format_date_bn, format_taka_bn, group_south_asian, to_bn_digits
from sonod.catalogue import BY_CODE, RELATION_BN

LANGS = ("bn", "en")

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
    "totp_hint": ("চেয়ারম্যান, সচিব, প্রশাসক, ইউএনও ও অপারেটরের জন্য: অথেনটিকেটর অ্যাপের ৬ অঙ্কের কোড",
                  "For chairmen, secretaries, administrators, UNOs and operators: the 6-digit code of the "
                  "authenticator app"),
    "login_failed": ("ব্যবহারকারীর নাম, পাসওয়ার্ড বা যাচাই কোড ভুল।", "Wrong username, password or code."),
    "totp_needed": ("এই পদের জন্য যাচাই কোড (TOTP) লাগবে।", "This role needs the verification code (TOTP)."),
    "locked": ("বারবার ভুলের কারণে অ্যাকাউন্টটি সাময়িকভাবে বন্ধ। পরে চেষ্টা করুন।",
               "The account is locked after repeated failures; try again later."),
    "too_many": ("অনেকবার চেষ্টা হয়েছে; কিছুক্ষণ পরে চেষ্টা করুন।", "Too many attempts; try again later."),
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
    # what the citizen does with a tracked application: cancel, correct, pay
    "cancel_app": ("আবেদন বাতিল করুন", "Cancel the application"),
    "cancel_title": ("আবেদনটি বাতিল করবেন?", "Cancel this application?"),
    "cancel_warning": ("বাতিল করা আবেদন আর ফেরানো যায় না। সনদ পেতে হলে আবার নতুন আবেদন করতে হবে।",
                       "A cancelled application cannot be restored: to get the certificate you would apply again."),
    "cancel_reason": ("কেন বাতিল করছেন?", "Why do you cancel it?"),
    "cancel_confirm": ("হ্যাঁ, আবেদন বাতিল করুন", "Yes, cancel the application"),
    "cancel_keep": ("না, আবেদনটি থাকুক", "No, keep it"),
    "cancelled_ok": ("আপনার আবেদনটি বাতিল করা হয়েছে।", "Your application has been cancelled."),
    "returned_title": ("কর্মকর্তা আবেদনটি সংশোধনের জন্য ফেরত পাঠিয়েছেন", "An officer sent the application back for correction"),
    "officer_reason": ("কর্মকর্তার মন্তব্য", "The officer's reason"),
    "correct_by": ("{d} তারিখের মধ্যে সংশোধন না করলে আবেদনটি বাতিল হয়ে যাবে।",
                   "Unless it is corrected by {d}, the application is cancelled."),
    "amend": ("আবেদন সংশোধন করুন", "Correct the application"),
    "amend_for": ("সংশোধন", "Correction"),
    "amend_submit": ("সংশোধিত আবেদন জমা দিন", "Send the corrected application"),
    "amended_ok": ("সংশোধিত আবেদন জমা হয়েছে। এনআইডি আবার যাচাইয়ের পর আবেদনটি কর্মকর্তার কাছে যাবে।",
                   "The corrected application is in. Once the NID is checked again, it goes back to the officer."),
    "pay_title": ("ফি পরিশোধ করুন", "Pay the fee"),
    "pay_step_1": ("ইউনিয়ন পরিষদের পেমেন্ট গেটওয়েতে (বিকাশ, নগদ, রকেট বা ব্যাংক কার্ড) অথবা ইউনিয়ন ডিজিটাল সেন্টারে "
                   "{amount} পরিশোধ করুন।",
                   "Pay {amount} through the Union Parishad's payment gateway (bKash, Nagad, Rocket or a bank card), "
                   "or at the union digital centre."),
    "pay_step_2": ("রেফারেন্স হিসেবে এই আবেদন নম্বরটি দিন:", "Give this application number as the reference:"),
    "pay_step_3": ("গেটওয়ে পরিশোধ নিশ্চিত করলে অবস্থা নিজে থেকেই বদলে যাবে; আর কিছু পাঠাতে হবে না।",
                   "Once the gateway confirms the payment, the status changes by itself: there is nothing else to send."),
    "pay_by": ("{d} তারিখের মধ্যে ফি পরিশোধ না হলে আবেদনটি বাতিল হয়ে যাবে।",
               "Unless the fee is paid by {d}, the application is cancelled."),
    "sim_gateway": ("পরীক্ষামূলক পেমেন্ট গেটওয়ে (শুধু ডেমো)", "Simulated payment gateway (demo only)"),
    "sim_note": ("এটি আসল পরিশোধ নয়, কোনো টাকা লেনদেন হয় না। বোতামটি আসল গেটওয়ের মতোই স্বাক্ষরিত নিশ্চিতকরণ পাঠায়। "
                 "শুধু ডেভ মোডে দেখা যায়।",
                 "Not a real payment: no money moves. The button sends the signed confirmation the real gateway "
                 "would send. Shown in dev mode only."),
    "sim_pay": ("পরীক্ষামূলক গেটওয়েতে {amount} পরিশোধ", "Pay {amount} with the simulated gateway"),
    "paid_ok": ("ফি পরিশোধ হয়েছে।", "The fee is paid."),
    "fee_paid": ("পরিশোধিত", "paid"),
    "cannot_cancel": ("এই অবস্থায় আবেদনটি আর বাতিল করা যায় না।", "The application can no longer be cancelled."),
    "not_returned": ("আবেদনটি সংশোধনের জন্য ফেরত আসেনি, তাই এখন সংশোধন করা যায় না।",
                     "The application was not sent back for correction, so it cannot be corrected now."),
}

# What the workflow's validators (workflows/application.py) and the services (api/services.py) refuse with, in
# English, said in Bengali: the parts in braces are named by the pattern's groups and put in words as well.
KNOWN_REFUSALS: list[tuple[re.Pattern, str]] = [(re.compile(pattern), bn) for pattern, bn in (
    (r"the application is (?P<status>\w+), not awaiting the (?P<role>\w+)",
     "আবেদনটি এখন «{status}» অবস্থায় আছে, {role} পদের সিদ্ধান্তের অপেক্ষায় নেই।"),
    (r"the application is (?P<status>\w+), not awaiting payment",
     "আবেদনটি এখন «{status}» অবস্থায় আছে, ফি পরিশোধের অপেক্ষায় নেই।"),
    (r"the application is (?P<status>\w+), not returned for correction",
     "আবেদনটি এখন «{status}» অবস্থায় আছে, সংশোধনের জন্য ফেরত নেই।"),
    (r"the application is (?P<status>\w+) and can no longer be cancelled",
     "আবেদনটি এখন «{status}» অবস্থায় আছে, তাই আর বাতিল করা যাবে না।"),
    (r"the fee is (?P<fee>\d+) BDT, not (?P<paid>\d+) \w+", "ফি {fee} টাকা, {paid} টাকা নয়।"),
    (r"a (?P<role>\w+) does not decide (?P<type>\w+)", "{type} বিষয়ে {role} সিদ্ধান্ত দেন না।"),
    (r"a (?P<role>\w+) does not act for the applicant", "{role} আবেদনকারীর পক্ষে কাজ করেন না।"),
    (r"the applicant lives in another ward", "আবেদনকারী অন্য ওয়ার্ডের বাসিন্দা।"),
    (r"[\w-]+ is not the union of this officer", "আবেদনটি আপনার ইউনিয়নের নয়।"),
    (r"only operators escalate by hand", "শুধু অপারেটর হাতে ঊর্ধ্বতন কর্মকর্তার কাছে পাঠাতে পারেন।"),
    (r"only operators resend notifications", "শুধু অপারেটর বার্তা আবার পাঠাতে পারেন।"),
    (r"nothing has been sent yet", "এখনো কোনো বার্তা পাঠানো হয়নি।"),
    (r"the application has finished and takes no more decisions",
     "আবেদনটির কাজ শেষ হয়ে গেছে; এতে আর কোনো সিদ্ধান্ত নেওয়া যায় না।"),
    (r"\S+ may not see this union's applications", "এই ইউনিয়নের আবেদন দেখার অনুমতি আপনার নেই।"),
    (r"no application (?P<id>\S+)", "{id} নম্বরে কোনো আবেদন নেই।"),
    (r"no issued certificate matches this application number and mobile number",
     "এই আবেদন নম্বর ও মোবাইল নম্বরে ইস্যু করা কোনো সনদ নেই।"),
    (r"the date of birth is in the future", "জন্ম তারিখ ভবিষ্যতের হতে পারে না।"),
    (r"the fee was not paid in time", "সময়মতো ফি পরিশোধ হয়নি।"),
    (r"the application was not corrected in time", "সময়মতো আবেদন সংশোধন হয়নি।"),
    (r"the chairman did not decide in time", "চেয়ারম্যান সময়মতো সিদ্ধান্ত দেননি।"),
    # the checks of identity numbers (sonod/nid.py), which the forms show beside the field
    (r"NID must be 10, 13 or 17 digits, not (?P<n>\d+)", "এনআইডি ১০, ১৩ বা ১৭ অঙ্কের হয়; এখানে {n}টি অঙ্ক আছে।"),
    (r"(NID|birth registration number) must contain only digits", "শুধু অঙ্ক লিখুন।"),
    (r"birth registration number must be 17 digits, not (?P<n>\d+)",
     "জন্ম নিবন্ধন নম্বর ১৭ অঙ্কের হয়; এখানে {n}টি অঙ্ক আছে।"),
    (r"a 17-digit [\w ]+ starts with the birth year (?P<year>\d+), not (?P<given>\d+)",
     "১৭ অঙ্কের নম্বরের শুরুতে জন্মসাল {year} থাকে, {given} নয়।"),
    (r"death registration number must be 17 digits", "মৃত্যু নিবন্ধন নম্বর ১৭ অঙ্কের হয়।"),
    (r"a death registration number starts with the year of death (?P<year>\d+), not (?P<given>\d+)",
     "মৃত্যু নিবন্ধন নম্বরের শুরুতে মৃত্যুর সাল {year} থাকে, {given} নয়।"),
)]
AMOUNTS = ("fee", "paid")  # groups that are sums of money: grouped in thousands; years and counts are not

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
        """The words of a message key; any other text (an error's detail, say) through `refusal`."""
        if key not in MESSAGES:
            return self.refusal(key)
        text = MESSAGES[key][self.i]
        return text.format(**{k: self.num(v) for k, v in kw.items()}) if kw else text

    def refusal(self, text: str) -> str:
        """A known English refusal of the workflow or the services in Bengali; the English page keeps it as it is,
        and so does an unknown one."""
        if self.i == 1:
            return text
        for pattern, bn in KNOWN_REFUSALS:
            if m := pattern.fullmatch(text.strip().removeprefix("Value error, ")):
                return bn.format(**{k: self._part(k, v) for k, v in m.groupdict().items()})
        return text

    def _part(self, name: str, value: str) -> str:
        if name == "status":
            return self.status(value)
        if name == "role":
            return self.role(value)
        if name == "type":
            kind = BY_CODE.get(value)
            return kind.name_bn if kind else value
        if name == "id":  # application numbers are written as issued, in ASCII
            return value
        return self.num(int(value) if name in AMOUNTS else value)

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

    def countdown_words(self, now: dt.datetime) -> dict:
        """What api/static/sonod.js needs to count deadlines down live in these words (and the server's clock)."""
        return {key: self(key) for key in ("left", "overdue_by", "days", "hours", "minutes")} | {
            "now": int(now.timestamp() * 1000)}

    @staticmethod
    def instant(t: dt.datetime) -> str:
        """A moment in UTC, as scripts parse it."""
        return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def countdown(self, deadline: dt.datetime | None, now: dt.datetime) -> str:
        if deadline is None:
            return ""
        left = deadline - now
        return self("left", t=self.duration(left)) if left.total_seconds() >= 0 \
            else self("overdue_by", t=self.duration(left))
