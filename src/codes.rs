//! The fixed codes of INTERFACE.md (allowances, decisions, categories, statuses …), each an enum
//! that parses from and prints to exactly the text the registry files and platform files use.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code as written in files.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl Code for $name {
            fn codes() -> String {
                [$($text),+].join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownCode;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownCode { kind: stringify!($name), value: s.to_string() }),
                }
            }
        }
    };
}

/// A code list of INTERFACE.md.
pub trait Code: FromStr<Err = UnknownCode> {
    /// Every value, as written in files, comma-separated (for error messages).
    fn codes() -> String;
}

/// A value that is not one of the codes INTERFACE.md lists.
#[derive(Debug, Clone, thiserror::Error)]
#[error("`{value}` is not a known {kind}")]
pub struct UnknownCode {
    /// Which code list.
    pub kind: &'static str,
    /// The value found.
    pub value: String,
}

code_enum!(
    /// The three allowances (R2, R4, R6).
    Allowance {
        /// 高龄老年人津贴 (R2).
        Longevity = "longevity",
        /// 失能老年人护理补贴 (R4).
        Care = "care",
        /// 困难老年人养老服务补贴 (R6).
        Hardship = "hardship",
    }
);

code_enum!(
    /// The decision on an application (T5: only `approved` starts payment).
    Decision { Approved = "approved", Rejected = "rejected", Pending = "pending" }
);

code_enum!(
    /// The kind of payment account a person named when applying.
    AccountType {
        /// 北京通-养老助残卡
        YanglaoZhucan = "yanglao_zhucan",
        /// 北京通-民政一卡通
        Minzheng = "minzheng",
        /// 北京通-残疾人服务一卡通
        Canji = "canji",
        /// 特殊家庭老年人扶助卡
        TeshuJiating = "teshu_jiating",
        /// 北京通-第三代社会保障卡
        Shebao = "shebao",
        /// 军人保障卡
        Junren = "junren",
    }
);

code_enum!(
    /// Result of the ability assessment (能力综合评估); only `severe` qualifies (R5).
    AssessmentResult { Severe = "severe", Moderate = "moderate", Mild = "mild", Able = "able" }
);

code_enum!(
    /// Disability category on a certificate (R4).
    Category {
        Visual = "visual",
        Hearing = "hearing",
        Speech = "speech",
        Limb = "limb",
        Intellectual = "intellectual",
        Mental = "mental",
    }
);

code_enum!(
    /// Household status for the hardship subsidy (R6).
    HouseholdStatus { Dibao = "dibao", LowIncome = "low_income", SpecialFamily = "special_family" }
);

code_enum!(
    /// Benefits that exclude the care or hardship subsidy (R8).
    ExclusionKind {
        DisabledPersonSubsidy = "disabled_person_subsidy",
        Tekun = "tekun",
        WorkInjuryCare = "work_injury_care",
        HeroicInjuryCare = "heroic_injury_care",
        ZhiqingInjuryCare = "zhiqing_injury_care",
        InstitutionSubsidy = "institution_subsidy",
    }
);

code_enum!(
    /// Why payment is suspended (T4).
    SuspensionReason { Imprisonment = "imprisonment", ReviewFailed = "review_failed", Missing = "missing" }
);
