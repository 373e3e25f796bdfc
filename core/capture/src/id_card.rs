//! The fields of a second-generation resident ID card (第二代居民身份证) and their checks.
//!
//! The app's ID-card hook (or its OCR vendor) returns [`IdCardFields`]; [`check_id_card`]
//! checks them against each other and against today's date: a plausible name, a valid
//! [`IdNumber`], the printed birth date and sex equal to what the number encodes, and a validity
//! period that contains today (`valid_from <= today <= valid_until`, or `长期` for long-term
//! cards). The card's photos are checked separately with
//! [`check_image`] and [`QualityThresholds::id_card`].
//!
//! [`IdCardFields`] is personal data: its `Debug` masks the name and the number, and no error
//! message contains either.

use crate::date::Date;
use crate::encoding::Canonical;
use crate::error::{DateError, IdCardError, QualityError};
use crate::id_number::{IdNumber, Sex, mask_id_number};
use crate::quality::{ImageReport, QualityThresholds, check_image};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// Domain-separation tag of [`IdCardFields::canonical_bytes`].
pub const ID_CARD_FIELDS_TAG: &str = "inkseal/capture/id-card-fields/v1";
/// Longest name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// Longest address or issuing authority accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 256;

/// The text printed for a long-term card (长期).
pub const LONG_TERM: &str = "长期";

/// End of a card's validity: a date, or long-term (长期, cards issued at 46 or older).
/// On the wire: `"YYYY-MM-DD"` or `"长期"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValidUntil {
    /// Valid up to and including this date.
    Date(Date),
    /// Long-term (长期).
    LongTerm,
}

impl ValidUntil {
    /// Parse `长期` or a date in one of [`Date::parse`]'s forms.
    pub fn parse(text: &str) -> Result<ValidUntil, DateError> {
        if text == LONG_TERM {
            Ok(ValidUntil::LongTerm)
        } else {
            Date::parse(text).map(ValidUntil::Date)
        }
    }
}

impl fmt::Display for ValidUntil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValidUntil::Date(d) => d.fmt(f),
            ValidUntil::LongTerm => f.write_str(LONG_TERM),
        }
    }
}

impl Serialize for ValidUntil {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ValidUntil {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        ValidUntil::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What the ID-card hook read from the card (front: name, sex, ethnicity, birth date, address,
/// number; back: issuing authority, validity period). JSON field names are these.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdCardFields {
    /// 姓名.
    pub name: String,
    /// 性别, if read (`"male"`/`"female"`; `"男"`/`"女"` are accepted on input).
    #[serde(default)]
    pub sex: Option<Sex>,
    /// 民族 (for example `汉`), may be empty.
    #[serde(default)]
    pub ethnicity: String,
    /// 出生, if read.
    #[serde(default)]
    pub birth_date: Option<Date>,
    /// 住址, may be empty.
    #[serde(default)]
    pub address: String,
    /// 公民身份号码, as read.
    pub id_number: String,
    /// 签发机关, may be empty.
    #[serde(default)]
    pub issuing_authority: String,
    /// 有效期限, start.
    pub valid_from: Date,
    /// 有效期限, end.
    pub valid_until: ValidUntil,
}

impl fmt::Debug for IdCardFields {
    /// Masks the name, the number and the address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name: String = self
            .name
            .chars()
            .enumerate()
            .map(|(i, c)| if i == 0 { c } else { '*' })
            .collect();
        f.debug_struct("IdCardFields")
            .field("name", &name)
            .field("sex", &self.sex)
            .field("ethnicity", &self.ethnicity)
            .field("birth_date", &self.birth_date.map(|_| "***"))
            .field("address", &"***")
            .field("id_number", &mask_id_number(&self.id_number))
            .field("issuing_authority", &self.issuing_authority)
            .field("valid_from", &self.valid_from)
            .field("valid_until", &self.valid_until)
            .finish()
    }
}

impl IdCardFields {
    /// The canonical encoding the manifest's `id_card_fields` entry digests:
    ///
    /// ```text
    /// str("inkseal/capture/id-card-fields/v1") str(name) str(sex: "male" | "female" | "")
    /// str(ethnicity) str(birth_date: "YYYY-MM-DD" | "") str(address) str(id_number as given)
    /// str(issuing_authority) str(valid_from: "YYYY-MM-DD") str(valid_until: "YYYY-MM-DD" | "长期")
    /// ```
    ///
    /// Note that a digest of personal data with little entropy does not hide it: the manifest
    /// must be kept as confidentially as the fields themselves.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let sex = match self.sex {
            Some(Sex::Male) => "male",
            Some(Sex::Female) => "female",
            None => "",
        };
        let birth = self.birth_date.map(|d| d.to_string()).unwrap_or_default();
        let mut c = Canonical::new(ID_CARD_FIELDS_TAG);
        c.str(&self.name)
            .str(sex)
            .str(&self.ethnicity)
            .str(&birth)
            .str(&self.address)
            .str(&self.id_number)
            .str(&self.issuing_authority)
            .str(&self.valid_from.to_string())
            .str(&self.valid_until.to_string());
        c.finish()
    }
}

/// What [`check_id_card`] established.
#[derive(Clone, Debug, PartialEq)]
pub struct IdCardReport {
    /// The checked number (normalised) and what it encodes.
    pub id_number: IdNumber,
    /// End of validity.
    pub valid_until: ValidUntil,
    /// Days from today to the end of validity (0 on the last day); `None` for long-term cards.
    pub days_until_expiry: Option<i64>,
    /// The front photo's measures, when the photo was checked.
    pub front: Option<ImageReport>,
    /// The back photo's measures, when the photo was checked.
    pub back: Option<ImageReport>,
}

fn plausible_text(s: &str, max_chars: usize) -> bool {
    s.chars().count() <= max_chars && !s.chars().any(char::is_control)
}

/// Check the fields against each other and against `today` (see the module doc).
pub fn check_id_card(fields: &IdCardFields, today: Date) -> Result<IdCardReport, IdCardError> {
    let name = fields.name.trim();
    if name.is_empty() || !plausible_text(&fields.name, MAX_NAME_CHARS) {
        return Err(IdCardError::BadName);
    }
    for (field, value, max) in [
        ("ethnicity", &fields.ethnicity, 32),
        ("address", &fields.address, MAX_TEXT_CHARS),
        (
            "issuing_authority",
            &fields.issuing_authority,
            MAX_TEXT_CHARS,
        ),
    ] {
        if !plausible_text(value, max) {
            return Err(IdCardError::BadField { field });
        }
    }
    let number = IdNumber::parse(&fields.id_number, today)?;
    if let Some(card) = fields.birth_date.filter(|d| *d != number.birth_date) {
        return Err(IdCardError::BirthDateMismatch {
            card,
            number: number.birth_date,
        });
    }
    if fields.sex.is_some_and(|s| s != number.sex) {
        return Err(IdCardError::SexMismatch);
    }
    if fields.valid_from > today {
        return Err(IdCardError::NotYetValid {
            valid_from: fields.valid_from,
            today,
        });
    }
    let days_until_expiry = match fields.valid_until {
        ValidUntil::LongTerm => None,
        ValidUntil::Date(until) => {
            if until <= fields.valid_from {
                return Err(IdCardError::BadValidityPeriod {
                    valid_from: fields.valid_from,
                    valid_until: until,
                });
            }
            if until < today {
                return Err(IdCardError::Expired {
                    valid_until: until,
                    today,
                });
            }
            Some(until.days_since_epoch() - today.days_since_epoch())
        }
    };
    Ok(IdCardReport {
        id_number: number,
        valid_until: fields.valid_until,
        days_until_expiry,
        front: None,
        back: None,
    })
}

/// Check both photos with `thresholds` (normally [`QualityThresholds::id_card`]) and then the
/// fields. The error says which photo failed.
pub fn check_id_card_capture(
    front: &[u8],
    back: &[u8],
    fields: &IdCardFields,
    thresholds: &QualityThresholds,
    today: Date,
) -> Result<IdCardReport, IdCardCaptureError> {
    let front_report = check_image(front, thresholds, None).map_err(IdCardCaptureError::Front)?;
    let back_report = check_image(back, thresholds, None).map_err(IdCardCaptureError::Back)?;
    let mut report = check_id_card(fields, today).map_err(IdCardCaptureError::Fields)?;
    report.front = Some(front_report);
    report.back = Some(back_report);
    Ok(report)
}

/// Which part of an ID-card capture failed [`check_id_card_capture`].
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum IdCardCaptureError {
    /// The front photo.
    #[error("ID card front: {0}")]
    Front(QualityError),
    /// The back photo.
    #[error("ID card back: {0}")]
    Back(QualityError),
    /// The fields.
    #[error("ID card: {0}")]
    Fields(IdCardError),
}

impl From<IdCardCaptureError> for crate::error::CaptureError {
    fn from(e: IdCardCaptureError) -> Self {
        use crate::error::{CaptureError, ImageRole};
        match e {
            IdCardCaptureError::Front(error) => CaptureError::Image {
                role: ImageRole::IdCardFront,
                error,
            },
            IdCardCaptureError::Back(error) => CaptureError::Image {
                role: ImageRole::IdCardBack,
                error,
            },
            IdCardCaptureError::Fields(e) => CaptureError::IdCard(e),
        }
    }
}
