//! What part of the area tree a caller may see. Default deny: an empty scope sees nothing.

use crate::access::SensitivitySet;
use crate::area::AreaPath;

/// A normalized set of subtree roots: sorted, deduplicated, none nested in another; or the
/// whole installation, which alone may create top-level areas. It also carries the tag
/// sensitivity classes the caller may see, so sensitive tags vanish from every query alike.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Scope {
    roots: Vec<AreaPath>,
    everything: bool,
    tags: SensitivitySet,
}

impl Scope {
    pub fn nothing() -> Self {
        Self::default()
    }

    /// Every area, present and future: for the operator's CLI and, until sign-in exists, the API.
    pub fn everything() -> Self {
        Self {
            roots: Vec::new(),
            everything: true,
            tags: SensitivitySet::all(),
        }
    }

    pub fn is_everything(&self) -> bool {
        self.everything
    }

    pub fn of(paths: impl IntoIterator<Item = AreaPath>) -> Self {
        let mut sorted: Vec<AreaPath> = paths.into_iter().collect();
        sorted.sort();
        // A subtree sorts as one contiguous run starting at its root, so comparing with the
        // last kept root is enough to drop nested paths and duplicates.
        let mut roots: Vec<AreaPath> = Vec::with_capacity(sorted.len());
        for p in sorted {
            if roots.last().is_none_or(|r| !p.is_within(r)) {
                roots.push(p);
            }
        }
        Self {
            roots,
            everything: false,
            tags: SensitivitySet::all(),
        }
    }

    /// The same areas, seeing only these tag classes.
    pub fn with_tag_classes(mut self, tags: SensitivitySet) -> Self {
        self.tags = tags;
        self
    }

    pub fn tag_classes(&self) -> SensitivitySet {
        self.tags
    }

    pub fn roots(&self) -> &[AreaPath] {
        &self.roots
    }

    pub fn is_empty(&self) -> bool {
        !self.everything && self.roots.is_empty()
    }

    pub fn contains(&self, path: &AreaPath) -> bool {
        if self.everything {
            return true;
        }
        // The only root that can contain `path` is the greatest one not after it.
        let idx = self.roots.partition_point(|r| r <= path);
        idx > 0 && path.is_within(&self.roots[idx - 1])
    }

    /// Whether `path` is a root or above one: such containers are shown for navigation only.
    pub fn sees_ancestor(&self, path: &AreaPath) -> bool {
        self.everything || self.roots.iter().any(|r| r.is_within(path))
    }

    /// The part of this scope inside the subtree at `root`.
    pub fn narrow_to(&self, root: &AreaPath) -> Scope {
        let narrowed = if self.contains(root) {
            Self::of([root.clone()])
        } else {
            Self::of(self.roots.iter().filter(|r| r.is_within(root)).cloned())
        };
        narrowed.with_tag_classes(self.tags)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::area::tests::arb_path;
    use proptest::prelude::*;

    fn p(s: &str) -> AreaPath {
        AreaPath::parse(s).unwrap()
    }

    #[test]
    fn everything_sees_all_and_narrows_to_a_subtree() {
        let all = Scope::everything();
        assert!(!all.is_empty());
        assert!(all.contains(&p("/7/8/")));
        assert_eq!(all.narrow_to(&p("/7/")).roots(), &[p("/7/")]);
        assert!(!all.narrow_to(&p("/7/")).is_everything());
    }

    #[test]
    fn normalizes_and_denies_by_default() {
        assert!(!Scope::nothing().contains(&p("/1/")));
        assert!(Scope::nothing().is_empty());
        let s = Scope::of([p("/1/5/"), p("/1/5/9/"), p("/2/"), p("/1/5/"), p("/1/50/")]);
        assert_eq!(s.roots(), &[p("/1/5/"), p("/1/50/"), p("/2/")]);
        assert!(s.contains(&p("/1/5/9/3/")));
        assert!(!s.contains(&p("/1/")));
        assert!(s.sees_ancestor(&p("/1/")));
        assert!(!s.sees_ancestor(&p("/3/")));
    }

    #[test]
    fn narrowing() {
        let s = Scope::of([p("/1/5/"), p("/1/6/"), p("/2/")]);
        assert_eq!(s.narrow_to(&p("/1/5/9/")).roots(), &[p("/1/5/9/")]);
        assert_eq!(s.narrow_to(&p("/1/")).roots(), &[p("/1/5/"), p("/1/6/")]);
        assert!(s.narrow_to(&p("/3/")).is_empty());
    }

    proptest! {
        #[test]
        fn contains_matches_roots(paths in prop::collection::vec(arb_path(), 0..6), q in arb_path()) {
            let s = Scope::of(paths.clone());
            let expected = paths.iter().any(|r| q.is_within(r));
            prop_assert_eq!(s.contains(&q), expected);
            for (i, a) in s.roots().iter().enumerate() {
                for b in &s.roots()[i + 1..] {
                    prop_assert!(!a.is_within(b) && !b.is_within(a));
                }
            }
        }

        #[test]
        fn narrow_never_widens(
            paths in prop::collection::vec(arb_path(), 0..6),
            root in arb_path(),
            q in arb_path(),
        ) {
            let s = Scope::of(paths);
            let n = s.narrow_to(&root);
            // Exactly the intersection, hence never wider than either side.
            prop_assert_eq!(n.contains(&q), s.contains(&q) && q.is_within(&root));
        }
    }
}
