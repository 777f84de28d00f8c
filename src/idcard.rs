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
    fn masks_keep_only_the_ends() {
        assert_eq!(mask("11010519491231002X"), "1101**********002X");
        assert_eq!(mask("6217000000000000001"), "6217***********0001");
    }
}
