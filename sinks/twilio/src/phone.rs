//! Phone numbers as people type them (`(415) 555-2671`, `+44 7700 900123`), parsed and
//! normalized to E.164 (`+14155552671`) with the `phonenumber` crate.

use phonenumber::{Mode, Type};

/// A valid phone number in E.164 form, with its country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    /// `+14155552671`.
    pub e164: String,
    /// ISO country code (`US`), when the number belongs to one country.
    pub country: Option<String>,
    /// Why a text to this number costs more than a mobile's (premium rate, shared cost, a
    /// satellite or international network, a type the numbering plan does not know), if it
    /// does: SMS pumping targets these.
    pub costly: Option<&'static str>,
}

impl Phone {
    /// The number without its last four digits (`+1415555`): numbers bought in bulk for SMS
    /// pumping share it.
    pub fn prefix(&self) -> &str {
        let cut = self.e164.len().saturating_sub(4);
        self.e164.get(..cut).unwrap_or(&self.e164)
    }

    /// The number with all but its last four digits hidden, for logs and replies.
    pub fn masked(&self) -> String {
        mask(&self.e164)
    }
}

/// `+14155552671` → `+1415•••2671`.
pub fn mask(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    if chars.len() <= 8 {
        return "•".repeat(chars.len());
    }
    let head: String = chars.iter().take(5).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}•••{tail}")
}

/// Why a typed number is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// Nothing was typed.
    #[error("a phone number is required")]
    Empty,
    /// It does not parse as a phone number.
    #[error("`{0}` is not a phone number (use the international form, e.g. +14155552671)")]
    Unparseable(String),
    /// It parses but no such number can exist.
    #[error("`{0}` is not a valid phone number")]
    Invalid(String),
}

/// Parses `typed`, with `default_country` (ISO code) for numbers without `+`.
///
/// # Errors
/// An empty, unparseable or impossible number.
pub fn normalize(typed: &str, default_country: Option<&str>) -> Result<Phone, PhoneError> {
    let trimmed = typed.trim();
    if trimmed.is_empty() {
        return Err(PhoneError::Empty);
    }
    if trimmed.len() > 32
        || !trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || " +-().".contains(c))
    {
        return Err(PhoneError::Unparseable(shorten(trimmed)));
    }
    let country = default_country.and_then(country);
    let number = phonenumber::parse(country, trimmed)
        .map_err(|_| PhoneError::Unparseable(shorten(trimmed)))?;
    if !number.is_valid() {
        return Err(PhoneError::Invalid(shorten(trimmed)));
    }
    let e164 = number.format().mode(Mode::E164).to_string();
    // The E.164 form is what is stored, what Twilio sends back as `From` and what
    // `check_e164` takes: it must read back as the same valid number. The library reads a
    // few numbers typed nationally (Brazil's `0900…`) into an E.164 form it does not.
    if !phonenumber::parse(None, &e164)
        .is_ok_and(|n| n.is_valid() && n.format().mode(Mode::E164).to_string() == e164)
    {
        return Err(PhoneError::Invalid(shorten(trimmed)));
    }
    let country = number.country().id().map(|id| id.as_ref().to_owned());
    let costly = match number.number_type(&phonenumber::metadata::DATABASE) {
        Type::PremiumRate => Some("a premium-rate number"),
        Type::SharedCost => Some("a shared-cost number"),
        Type::Unknown => Some("a number of unknown type"),
        _ if country.is_none() => Some("a satellite or international-network number"),
        _ => None,
    };
    Ok(Phone {
        e164,
        country,
        costly,
    })
}

/// Checks that `to` is a number already in E.164 form (`+14155552671`), as recipients are
/// stored: a recipient given by hand is used as typed.
///
/// # Errors
/// What is wrong with `to`, with its E.164 form when it is a number written otherwise.
pub fn check_e164(to: &str) -> Result<(), String> {
    match normalize(to, None) {
        Ok(phone) if phone.e164 == to => Ok(()),
        Ok(phone) => Err(format!("write the number in E.164: {}", phone.e164)),
        Err(e) => Err(e.to_string()),
    }
}

fn shorten(text: &str) -> String {
    text.chars().take(32).collect()
}

/// A country code as the phone number library knows it.
pub(crate) fn country(code: &str) -> Option<phonenumber::country::Id> {
    std::str::FromStr::from_str(&code.trim().to_ascii_uppercase()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_normalize_to_e164() {
        let us = normalize("+1 (415) 555-2671", None).unwrap();
        assert_eq!(us.e164, "+14155552671");
        assert_eq!(us.country.as_deref(), Some("US"));
        let gb = normalize("07400 123456", Some("GB")).unwrap();
        assert_eq!(gb.e164, "+447400123456");
        assert_eq!(gb.country.as_deref(), Some("GB"));
        let br = normalize("+55 11 98765-4321", None).unwrap();
        assert_eq!(br.e164, "+5511987654321");
        assert_eq!(br.country.as_deref(), Some("BR"));
    }

    #[test]
    fn bad_numbers_are_refused_with_a_reason() {
        assert_eq!(normalize("  ", None), Err(PhoneError::Empty));
        assert!(matches!(
            normalize("call me", None),
            Err(PhoneError::Unparseable(_))
        ));
        assert!(matches!(
            normalize("4155552671", None),
            Err(PhoneError::Unparseable(_))
        ));
        assert!(matches!(
            normalize("+1 123", None),
            Err(PhoneError::Invalid(_) | PhoneError::Unparseable(_))
        ));
        assert!(matches!(
            normalize("+1 000 000 0000", None),
            Err(PhoneError::Invalid(_) | PhoneError::Unparseable(_))
        ));
        assert!(matches!(
            normalize("+44 7400 12345", None),
            Err(PhoneError::Invalid(_))
        ));
    }

    /// Found by fuzzing: `00 9009382 69` typed in Brazil read as `+55900938269`, which the
    /// library then reads as `+55938269`, invalid: a subscriber whose replies (`From`) herald
    /// could not recognise, and a number `check_e164` refuses.
    #[test]
    fn a_number_whose_e164_form_does_not_read_back_is_invalid() {
        for typed in ["00 9009382 69", "0900938269"] {
            assert_eq!(
                normalize(typed, Some("BR")),
                Err(PhoneError::Invalid(typed.to_owned())),
                "{typed}"
            );
        }
        let ok = normalize("11 98765-4321", Some("BR")).unwrap();
        assert_eq!(ok.e164, "+5511987654321");
        assert_eq!(check_e164(&ok.e164), Ok(()));
    }

    #[test]
    fn numbers_that_cost_extra_are_marked() {
        for ordinary in [
            "+14155552671",
            "+447400123456",
            "+5511987654321",
            "+33612345678",
        ] {
            let p = normalize(ordinary, None).unwrap();
            assert_eq!(p.costly, None, "{ordinary}");
        }
        for costly in [
            "+19002345678",
            "+449098790123",
            "+33899123456",
            "+979123456789",
            "+881612345678",
            "+870773123456",
            "+882345678901",
        ] {
            // Either not a valid number at all or marked as one that costs extra.
            if let Ok(p) = normalize(costly, None) {
                assert!(p.costly.is_some(), "{costly} is {p:?}");
            }
        }
        assert!(normalize("+19002345678", None).unwrap().costly.is_some());
        assert!(normalize("+33899123456", None).unwrap().costly.is_some());
    }

    #[test]
    fn recipients_must_already_be_e164() {
        assert_eq!(check_e164("+14155552671"), Ok(()));
        assert_eq!(
            check_e164("+1 (415) 555-2671"),
            Err("write the number in E.164: +14155552671".to_owned())
        );
        assert!(check_e164("whatsapp:+14155552671").is_err());
        assert!(check_e164("4155552671").is_err());
        assert_eq!(check_e164(""), Err("a phone number is required".to_owned()));
    }

    #[test]
    fn prefix_and_mask_hide_the_subscriber() {
        let p = normalize("+14155552671", None).unwrap();
        assert_eq!(p.prefix(), "+1415555");
        assert_eq!(p.masked(), "+1415•••2671");
    }
}
