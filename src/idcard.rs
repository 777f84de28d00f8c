//! Resident ID numbers (GB 11643-1999): checksum, embedded birth date, and masking for logs.

use chrono::NaiveDate;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// Why an ID number is not valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// Not 17 digits followed by a digit or `X`.
    #[error("an ID number is 18 characters: 17 digits and a digit or X")]
    Format,
    /// The ISO 7064 MOD 11-2 check character does not match.
    #[error("the check character does not match (ISO 7064 MOD 11-2)")]
    Checksum,
    /// Characters 7–14 are not a real date.
    #[error("the embedded birth date is not a real date")]
    BirthDate,
}

/// The check character for the first 17 digits.
pub fn check_char(body: &str) -> Option<char> {
    if body.len() != 17 || !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = body.bytes().zip(WEIGHTS).map(|(b, w)| (b - b'0') as u32 * w).sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

/// Validate an ID number and return its embedded birth date.
pub fn validate(id: &str) -> Result<NaiveDate, IdError> {
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(|b| b.is_ascii_digit()) {
        return Err(IdError::Format);
    }
    let last = bytes[17];
    if !(last.is_ascii_digit() || last == b'X') {
        return Err(IdError::Format);
    }
    if check_char(&id[..17]) != Some(last as char) {
        return Err(IdError::Checksum);
    }
    NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").map_err(|_| IdError::BirthDate)
}

/// What is wrong with an ID number an operator typed, in words that say how to fix it; the ID is
/// shown masked ([`mask`]), never in full.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TypedIdError {
    /// Not 18 characters.
    #[error("the ID number {masked} has {got} characters, not 18: type all 17 digits and the check character")]
    Length {
        /// The ID, masked.
        masked: String,
        /// How many characters were typed.
        got: usize,
    },
    /// A character that should be a digit is not (or the last is neither a digit nor X).
    #[error("the ID number {masked} has {what} at position {position}: the first 17 characters are digits, the 18th a digit or X")]
    NotDigit {
        /// The ID, masked.
        masked: String,
        /// 1-based position of the first wrong character.
        position: usize,
        /// What was found there, in words.
        what: &'static str,
    },
    /// Characters 7–14 are not a real date.
    #[error("the ID number {masked} has an impossible birth date (characters 7-14 must be a real date YYYYMMDD): check those digits")]
    BirthDate {
        /// The ID, masked.
        masked: String,
    },
    /// The check character does not match the first 17 digits.
    #[error("the ID number {masked} ends in {got} but its check character (ISO 7064 MOD 11-2) should be {expected}: check the digits")]
    Checksum {
        /// The ID, masked.
        masked: String,
        /// The check character typed.
        got: char,
        /// The check character the 17 digits call for.
        expected: char,
    },
}

/// Check an ID number an operator typed (`explain --id`, `hold --id`, a recovery key): trims
/// spaces, turns a final lowercase `x` into `X`, and returns the ID to look up, or exactly what
/// is wrong with it (the ID masked in the message).
pub fn parse_typed(input: &str) -> Result<String, TypedIdError> {
    let mut id = input.trim().to_string();
    if id.ends_with('x') {
        id.pop();
        id.push('X');
    }
    let chars: Vec<char> = id.chars().collect();
    let masked = mask(&id);
    if chars.len() != 18 {
        return Err(TypedIdError::Length { masked, got: chars.len() });
    }
    let wrong = |c: char| {
        if c.is_ascii_alphabetic() {
            "a letter"
        } else if c.is_whitespace() {
            "a space"
        } else {
            "a character that is not a digit"
        }
    };
    if let Some(i) = chars[..17].iter().position(|c| !c.is_ascii_digit()) {
        return Err(TypedIdError::NotDigit { masked, position: i + 1, what: wrong(chars[i]) });
    }
    let last = chars[17];
    if !(last.is_ascii_digit() || last == 'X') {
        return Err(TypedIdError::NotDigit { masked, position: 18, what: wrong(last) });
    }
    if NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").is_err() {
        return Err(TypedIdError::BirthDate { masked });
    }
    let expected = check_char(&id[..17]).expect("17 digits");
    if expected != last {
        return Err(TypedIdError::Checksum { masked, got: last, expected });
    }
    Ok(id)
}

/// Build a valid ID from region, birth date and 3-digit sequence (for the generator and tests).
pub fn make(region: &str, birth: NaiveDate, seq: u32) -> String {
    let body = format!("{region}{}{:03}", birth.format("%Y%m%d"), seq % 1000);
    let check = check_char(&body).expect("17 digits");
    format!("{body}{check}")
}

/// Mask an ID or account number for logs and terminal reports: first 4 and last 4 characters.
pub fn mask(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

/// A payment key (`ID-allowance-YYYY-MM-N`) with its ID number masked.
pub fn mask_key(key: &str) -> String {
    match key.split_once('-') {
        Some((id, rest)) => format!("{}-{rest}", mask(id)),
        None => mask(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_examples_are_valid() {
        assert_eq!(validate("11010519491231002X").unwrap(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert!(validate("440524188001010014").is_ok());
        assert_eq!(validate("110105194912310021"), Err(IdError::Checksum));
        assert_eq!(validate("11010519491331002X"), Err(IdError::Checksum));
        assert_eq!(validate("1101051949123100"), Err(IdError::Format));
        let made = make("110102", NaiveDate::from_ymd_opt(1930, 2, 28).unwrap(), 17);
        assert!(validate(&made).is_ok());
    }

    #[test]
    fn a_typed_id_says_exactly_what_is_wrong_and_never_shows_it_in_full() {
        assert_eq!(parse_typed("11010519491231002x").unwrap(), "11010519491231002X");
        assert_eq!(parse_typed(" 440524188001010014 ").unwrap(), "440524188001010014");
        assert_eq!(
            parse_typed("1101051949123100"),
            Err(TypedIdError::Length { masked: "1101********3100".into(), got: 16 })
        );
        let e = parse_typed("11010519491231A02X").unwrap_err();
        assert_eq!(e, TypedIdError::NotDigit { masked: "1101**********A02X".into(), position: 15, what: "a letter" });
        assert!(matches!(parse_typed("11010519491231002Y"), Err(TypedIdError::NotDigit { position: 18, .. })));
        assert!(matches!(parse_typed("110105194913310021"), Err(TypedIdError::BirthDate { .. })));
        let e = parse_typed("110105194912310021").unwrap_err();
        assert_eq!(e, TypedIdError::Checksum { masked: "1101**********0021".into(), got: '1', expected: 'X' });
        let said = e.to_string();
        assert!(said.contains("should be X") && !said.contains("110105194912310021"), "{said}");
    }

    #[test]
    fn masks_keep_only_the_ends() {
        assert_eq!(mask("11010519491231002X"), "1101**********002X");
        assert_eq!(mask("6217000000000000001"), "6217***********0001");
    }
}
