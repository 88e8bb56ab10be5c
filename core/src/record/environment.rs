//! The deployment environment a record comes from.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::record::level::UnknownName;

/// Where the logging program runs.
///
/// ```
/// use timber_core::Environment;
/// assert_eq!("production".parse::<Environment>().unwrap(), Environment::Production);
/// assert_eq!(Environment::Staging.as_str(), "staging");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// A developer's machine.
    Development,
    /// A pre-production deployment.
    Staging,
    /// Production.
    #[default]
    Production,
}

impl Environment {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Development => "development",
            Environment::Staging => "staging",
            Environment::Production => "production",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "development" | "dev" => Ok(Environment::Development),
            "staging" => Ok(Environment::Staging),
            "production" | "prod" => Ok(Environment::Production),
            _ => Err(UnknownName {
                kind: "environment",
                value: s.to_owned(),
            }),
        }
    }
}
