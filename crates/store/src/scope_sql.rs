//! The one place where a caller's scope becomes SQL. Every scoped query in the store builds its
//! area filter here; nothing else writes an area condition.

use wangge_domain::{AreaPath, Scope, SensitivitySet};

use crate::db::Value;

/// `column` lies inside one of the scope's subtrees: one indexed range per root. An empty scope
/// yields a condition that is never true (default deny).
pub(crate) fn within(column: &str, scope: &Scope, params: &mut Vec<Value>) -> String {
    if scope.is_everything() {
        return "1 = 1".to_owned();
    }
    if scope.is_empty() {
        return "1 = 0".to_owned();
    }
    let parts: Vec<String> = scope
        .roots()
        .iter()
        .map(|root| {
            let (lo, hi) = root.range();
            params.push(Value::Text(lo));
            params.push(Value::Text(hi));
            format!("({column} >= ? AND {column} < ?)")
        })
        .collect();
    format!("({})", parts.join(" OR "))
}

/// `column` is inside the scope or is an ancestor of one of its roots: structural containers
/// (areas, compounds) above a user's scope are visible so they can navigate down to it.
pub(crate) fn within_or_above(column: &str, scope: &Scope, params: &mut Vec<Value>) -> String {
    if scope.is_empty() {
        return "1 = 0".to_owned();
    }
    let mut above: Vec<AreaPath> = scope.roots().iter().flat_map(|r| r.ancestors()).collect();
    above.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    above.dedup();
    let inside = within(column, scope, params);
    if above.is_empty() {
        return inside;
    }
    let marks = vec!["?"; above.len()].join(", ");
    params.extend(
        above
            .into_iter()
            .map(|p| Value::Text(p.as_str().to_owned())),
    );
    format!("({inside} OR {column} IN ({marks}))")
}

/// `column` (a tag sensitivity) is one of the classes the scope may see.
pub(crate) fn visible_tags(column: &str, scope: &Scope, params: &mut Vec<Value>) -> String {
    let classes = scope.tag_classes();
    if classes.is_all() {
        return "1 = 1".to_owned();
    }
    let names: Vec<Value> = classes
        .iter()
        .map(|c| Value::Text(c.as_str().to_owned()))
        .collect();
    if names.is_empty() {
        return "1 = 0".to_owned();
    }
    let marks = vec!["?"; names.len()].join(", ");
    params.extend(names);
    format!("{column} IN ({marks})")
}

/// `column` (a bitmask of tag classes, as `SensitivitySet::bits`) holds only classes the scope
/// may see: a row built on classes the caller cannot see is invisible to them.
pub(crate) fn visible_class_mask(column: &str, scope: &Scope, params: &mut Vec<Value>) -> String {
    let hidden = SensitivitySet::all().bits() & !scope.tag_classes().bits();
    if hidden == 0 {
        return "1 = 1".to_owned();
    }
    params.push(Value::Int(i64::from(hidden)));
    format!("({column} & ?) = 0")
}

/// `column` (an area path) is `path` or one of its ancestors: the areas whose subtree holds
/// `path`, i.e. whose users' scope covers it. Exact matches on the indexed path.
pub(crate) fn covering(column: &str, path: &AreaPath, params: &mut Vec<Value>) -> String {
    let mut all = path.ancestors();
    all.push(path.clone());
    let marks = vec!["?"; all.len()].join(", ");
    params.extend(all.into_iter().map(|p| Value::Text(p.as_str().to_owned())));
    format!("{column} IN ({marks})")
}
