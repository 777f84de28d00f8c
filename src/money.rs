//! Money: `rust_decimal::Decimal` yuan in code, integer fen in the databases. Rounding happens
//! only where the policy allows it (F4) and is always half up (四舍五入).

use rust_decimal::{Decimal, RoundingStrategy};

/// Integer fen, the unit stored in both databases.
pub type Fen = i64;

/// Yuan from integer fen, exact.
pub fn yuan(fen: Fen) -> Decimal {
    Decimal::new(fen, 2)
}

/// Integer fen from yuan. Errors when the amount has a fraction of a fen: money that cannot be
/// stored exactly is a defect in the caller, never something to round away silently.
pub fn to_fen(yuan: Decimal) -> Result<Fen, SubFen> {
    let scaled = yuan * Decimal::ONE_HUNDRED;
    if scaled.fract() != Decimal::ZERO {
        return Err(SubFen(yuan));
    }
    i64::try_from(scaled).map_err(|_| SubFen(yuan))
}

/// Round to the fen, half away from zero (四舍五入): the one rounding rule the engine uses.
pub fn round_half_up(yuan: Decimal) -> Decimal {
    yuan.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// Print yuan with exactly two decimals (`500.00`), as the platform files require.
pub fn format_yuan(yuan: Decimal) -> String {
    format!("{:.2}", round_exact(yuan))
}

/// Print integer fen as yuan with two decimals.
pub fn format_fen(fen: Fen) -> String {
    format_yuan(yuan(fen))
}

/// Yuan as 万元 (ten thousands), exact, without trailing zeros (`52000` → `5.2`).
pub fn wan(yuan: Decimal) -> Decimal {
    (yuan / Decimal::from(10_000)).normalize()
}

fn round_exact(yuan: Decimal) -> Decimal {
    let mut y = yuan;
    y.rescale(2);
    y
}

/// An amount with a fraction of a fen where only whole fen are allowed.
#[derive(Debug, thiserror::Error)]
#[error("{0} yuan is not a whole number of fen")]
pub struct SubFen(pub Decimal);

/// Money in `--json` output (docs/json/): always a string of yuan with exactly two decimals
/// (`"0.00"`, `"500.00"`), whatever scale the `Decimal` carries. Used as
/// `#[serde(serialize_with = "crate::money::json::yuan")]`; deserialising is serde's own (any
/// decimal string), so values stored before read back unchanged.
pub mod json {
    use super::{format_fen, format_yuan, Fen};
    use rust_decimal::Decimal;
    use serde::ser::SerializeMap as _;
    use serde::{Serialize, Serializer};

    /// An amount in yuan.
    pub fn yuan<S: Serializer>(amount: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_yuan(*amount))
    }

    /// An amount in yuan, or `null`.
    pub fn opt_yuan<S: Serializer>(amount: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match amount {
            Some(a) => s.serialize_str(&format_yuan(*a)),
            None => s.serialize_none(),
        }
    }

    /// An amount kept in integer fen, printed in yuan.
    pub fn fen<S: Serializer>(amount: &Fen, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_fen(*amount))
    }

    /// A map whose values are amounts in yuan.
    pub fn yuan_map<K: Serialize, S: Serializer>(
        amounts: &std::collections::BTreeMap<K, Decimal>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(amounts.len()))?;
        for (k, v) in amounts {
            map.serialize_entry(k, &format_yuan(*v))?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn fen_round_trip_and_half_up() {
        assert_eq!(to_fen(dec!(500.00)).unwrap(), 50_000);
        assert_eq!(yuan(12_345), dec!(123.45));
        assert!(to_fen(dec!(0.005)).is_err());
        // Banker's rounding would give 0.12; the policy says half up.
        assert_eq!(round_half_up(dec!(0.125)), dec!(0.13));
        assert_eq!(round_half_up(dec!(-0.125)), dec!(-0.13));
        assert_eq!(format_yuan(dec!(500)), "500.00");
        assert_eq!(format_fen(-5), "-0.05");
    }

    #[test]
    fn json_money_is_yuan_with_two_decimals_whatever_the_scale() {
        #[derive(serde::Serialize)]
        struct Shown {
            #[serde(serialize_with = "json::yuan")]
            zero: Decimal,
            #[serde(serialize_with = "json::yuan")]
            whole: Decimal,
            #[serde(serialize_with = "json::opt_yuan")]
            none: Option<Decimal>,
            #[serde(serialize_with = "json::fen")]
            fen: Fen,
        }
        let shown = Shown { zero: Decimal::ZERO, whole: dec!(500), none: None, fen: -5 };
        assert_eq!(
            serde_json::to_string(&shown).unwrap(),
            r#"{"zero":"0.00","whole":"500.00","none":null,"fen":"-0.05"}"#
        );
    }
}
