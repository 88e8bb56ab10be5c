//! The targets (crates and modules) a bridge does not log.

/// Targets whose events the bridges drop by default: the SDK's own crates
/// and the HTTP stack its transports run on, whose events would otherwise be
/// logged by the very transport that emits them.
///
/// An entry ending in `_` matches every crate whose name starts with it
/// (`timber_transport_` matches `timber_transport_hyper`); any other entry
/// matches the target equal to it and its submodules (`hyper` matches
/// `hyper::proto::h1`, not `hyperloop`).
///
/// ```
/// assert!(timber_core::integration::DEFAULT_IGNORED_TARGETS.contains(&"hyper"));
/// ```
pub const DEFAULT_IGNORED_TARGETS: &[&str] = &[
    "timber_core",
    "timber_transport_",
    "hyper",
    "hyper_util",
    "h2",
    "rustls",
    "tokio",
    "tokio_rustls",
];

/// The list of targets a bridge ignores ([`DEFAULT_IGNORED_TARGETS`]
/// unless changed), with the matching rule described there.
///
/// ```
/// use timber_core::integration::IgnoredTargets;
/// let ignored = IgnoredTargets::default();
/// assert!(ignored.matches("hyper::proto::h1::conn"));
/// assert!(!ignored.matches("hyperloop"));
/// ```
#[derive(Clone, Debug)]
pub struct IgnoredTargets(Vec<String>);

impl Default for IgnoredTargets {
    fn default() -> Self {
        IgnoredTargets(
            DEFAULT_IGNORED_TARGETS
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
        )
    }
}

impl IgnoredTargets {
    /// Also ignores `target`.
    pub fn add(&mut self, target: String) {
        self.0.push(target);
    }

    /// Replaces the whole list.
    pub fn replace(&mut self, targets: impl IntoIterator<Item = impl Into<String>>) {
        self.0 = targets.into_iter().map(Into::into).collect();
    }

    /// Whether `target` is ignored.
    pub fn matches(&self, target: &str) -> bool {
        self.0.iter().any(|entry| target_matches(entry, target))
    }
}

fn target_matches(entry: &str, target: &str) -> bool {
    if entry.is_empty() {
        return false;
    }
    if entry.ends_with('_') {
        return target.starts_with(entry);
    }
    match target.strip_prefix(entry) {
        Some(rest) => rest.is_empty() || rest.starts_with("::"),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_match_at_module_boundaries_or_as_crate_prefixes() {
        let ignored = IgnoredTargets::default();
        assert!(ignored.matches("hyper"));
        assert!(ignored.matches("hyper::proto::h1::conn"));
        assert!(ignored.matches("timber_transport_hyper::client"));
        assert!(ignored.matches("timber_core"));
        assert!(!ignored.matches("hyperloop"));
        assert!(!ignored.matches("timber_demo"));
        assert!(!ignored.matches("my_app"));
        let mut none = IgnoredTargets::default();
        none.replace(Vec::<String>::new());
        assert!(!none.matches("hyper"));
        none.add(String::new());
        assert!(!none.matches("anything"));
    }
}
