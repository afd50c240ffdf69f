//! Depth, size and cost limits, checked on the parsed document before it is
//! validated or run, so a refused query never reaches the store.
use std::{
    collections::HashMap,
    num::NonZeroUsize,
    sync::{Arc, Mutex},
};

use lru::LruCache;

use async_graphql::{
    Name, OutputType, Positioned, Request, ServerError, ServerResult, SubscriptionType, Value,
    Variables,
    parser::{
        self,
        types::{
            DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType,
            Selection, SelectionSet, VariableDefinition,
        },
    },
    registry::{MetaType, MetaTypeName, Registry},
};

use super::{
    connection::{DEFAULT_FIRST, MAX_FIRST},
    error::GqlError,
    mutation::Mutation,
    query::Query,
    subscription::Subscription,
};

/// A query within the limits is a few kilobytes; this leaves room for
/// variables without letting a request (or a WebSocket message) tie up memory.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Deepest field allowed; the outermost field is level 1.
pub const MAX_DEPTH: usize = 15;
/// Most fields one operation may select, counting every field, leaf or not,
/// each alias, and each field of a fragment as often as it is spread.
pub const MAX_FIELDS: usize = 300;
/// Most objects the operation that runs could return, counted as lists would
/// fill (see [`Measure::field`]).
pub const MAX_NODES: u64 = 10_000;
/// Nested brackets (selection sets, arguments, lists, input objects) allowed
/// in the text, and nested selection sets once fragments are spread. The
/// parser's own limits are higher or depend on the stack left; this one is
/// checked first, so every document too deep is refused the same way.
pub const MAX_NESTING: usize = 64;

/// Lists without a `first` argument, by item type, and the most items one
/// holds. A list missing here counts [`MAX_FIRST`] items.
const LIST_BOUNDS: &[(&str, u64)] = &[
    // One per notification type: the store keeps one per account and type.
    ("NotificationConfig", 4),
];

/// Query texts whose parsed documents are kept, and the longest kept.
/// Dashboards send the same few queries again and again, and parsing one
/// (async-graphql's parser is pest's) was a tenth of the CPU of a page of
/// events (`bench/RESULTS.md`). At most about 64 × 8 KiB of text and what
/// it parses into.
const PARSED_KEPT: NonZeroUsize = NonZeroUsize::new(64).expect("not zero");
const PARSED_KEPT_BYTES: usize = 8 * 1024;

/// Checks requests against the limits, on the schema's types.
pub struct QueryLimits {
    registry: Registry,
    /// Documents parsed lately (and compacted), by query text. Only the
    /// parse is kept: the limits depend on the variables and the operation,
    /// and are checked on every request.
    parsed: Mutex<LruCache<String, Arc<ExecutableDocument>>>,
}

impl QueryLimits {
    /// The registry is built here from the root types: async-graphql hands
    /// its own only to extensions, and with any extension installed every
    /// resolved field goes through the extension chain (boxed futures, a
    /// type lookup) -- a large share of a page's cost. Introspection fields
    /// are not in it: nothing under them counts as a node (see
    /// [`Measure::selection_set`]).
    pub(super) fn new() -> Self {
        let mut registry = Registry {
            query_type: Query::type_name().into_owned(),
            mutation_type: Some(Mutation::type_name().into_owned()),
            subscription_type: Some(Subscription::type_name().into_owned()),
            ..Registry::default()
        };
        <Query as OutputType>::create_type_info(&mut registry);
        <Mutation as OutputType>::create_type_info(&mut registry);
        <Subscription as SubscriptionType>::create_type_info(&mut registry);
        Self {
            registry,
            parsed: Mutex::new(LruCache::new(PARSED_KEPT)),
        }
    }

    /// Parses the request's query and refuses it when over the limits;
    /// async-graphql then runs the document parsed here, compacted.
    pub(super) fn prepare(&self, request: &mut Request) -> ServerResult<()> {
        let doc = self.parsed(&request.query)?;
        check(
            &doc,
            &self.registry,
            &request.variables,
            request.operation_name.as_deref(),
        )
        .map_err(GqlError::into_server_error)?;
        request.set_parsed_query(ExecutableDocument::clone(&doc));
        Ok(())
    }

    /// `query` parsed and compacted: kept from an earlier request, or
    /// parsed now (and kept, when it is short).
    fn parsed(&self, query: &str) -> ServerResult<Arc<ExecutableDocument>> {
        if let Some(doc) = self.kept().get(query) {
            return Ok(doc.clone());
        }
        let mut doc = parse(query)?;
        super::compact::document(&mut doc);
        let doc = Arc::new(doc);
        if query.len() <= PARSED_KEPT_BYTES {
            self.kept().put(query.to_owned(), doc.clone());
        }
        Ok(doc)
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<ExecutableDocument>>> {
        // Each change is one `get` or `put`: a panic cannot leave it half made.
        self.parsed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Parses `query`, refusing one nested too deep before the parser recurses.
fn parse(query: &str) -> ServerResult<ExecutableDocument> {
    let too_deep = || {
        GqlError::QueryTooComplex(format!(
            "the query is nested more than {MAX_NESTING} levels deep"
        ))
        .into_server_error()
    };
    if nested_deeper_than(query, MAX_NESTING) {
        return Err(too_deep());
    }
    match parser::parse_query(query) {
        Ok(doc) => Ok(doc),
        // The parser's own limit (64 selection sets); the scan finds it first.
        Err(parser::Error::RecursionLimitExceeded) => Err(too_deep()),
        Err(error) => Err(ServerError::from(error)),
    }
}

/// Whether brackets nest deeper than `limit` in a GraphQL text, outside
/// strings and comments. One pass, no recursion.
fn nested_deeper_than(text: &str, limit: usize) -> bool {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let rest = &bytes[i..];
        match bytes[i] {
            b'#' => {
                i += rest
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .unwrap_or(rest.len());
                continue;
            }
            b'"' if rest.starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 3;
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && !matches!(bytes[i], b'"' | b'\n' | b'\r') {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    false
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Size {
    depth: usize,
    fields: usize,
    /// Objects returned for one object of the selection's own type.
    nodes: u64,
}

impl Size {
    fn merge(&mut self, other: Size) {
        self.depth = self.depth.max(other.depth);
        self.fields = self.fields.saturating_add(other.fields);
        self.nodes = self.nodes.saturating_add(other.nodes);
    }
}

/// Refuses a document with an operation over the depth or field limits, or
/// whose operation that would run (named `operation_name`) could return
/// more than [`MAX_NODES`] nodes with these `variables`.
pub fn check(
    doc: &ExecutableDocument,
    registry: &Registry,
    variables: &Variables,
    operation_name: Option<&str>,
) -> Result<(), GqlError> {
    let runs = operation_to_run(doc, operation_name);
    let mut measure = Measure {
        doc,
        registry,
        variables,
        // Variables take their defaults from the operation that runs.
        defaults: runs.map_or(&[], |op| op.variable_definitions.as_slice()),
        fragments: HashMap::new(),
    };
    for (_, operation) in doc.operations.iter() {
        let root = match operation.node.ty {
            OperationType::Query => Some(&registry.query_type),
            OperationType::Mutation => registry.mutation_type.as_ref(),
            OperationType::Subscription => registry.subscription_type.as_ref(),
        };
        let root = root.and_then(|name| registry.types.get(name));
        let size = measure.selection_set(&operation.node.selection_set.node, root, 0)?;
        if size.depth > MAX_DEPTH {
            return Err(GqlError::QueryTooComplex(format!(
                "the query is {} levels deep; at most {MAX_DEPTH} are allowed",
                size.depth
            )));
        }
        if size.fields > MAX_FIELDS {
            return Err(GqlError::QueryTooComplex(format!(
                "the query selects {} fields; at most {MAX_FIELDS} are allowed",
                size.fields
            )));
        }
        let counted = runs.is_some_and(|op| std::ptr::eq(op, &operation.node));
        if counted && size.nodes > MAX_NODES {
            return Err(GqlError::QueryTooComplex(format!(
                "the query could return {} nodes; at most {MAX_NODES} are allowed",
                size.nodes
            )));
        }
    }
    Ok(())
}

/// The operation async-graphql will run, as it picks it; `None` when it
/// will refuse the request for want of one.
fn operation_to_run<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    let operation = match (&doc.operations, name) {
        (DocumentOperations::Single(operation), None) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next()?
        }
        _ => return None,
    };
    Some(&operation.node)
}

struct Measure<'a> {
    doc: &'a ExecutableDocument,
    registry: &'a Registry,
    variables: &'a Variables,
    defaults: &'a [Positioned<VariableDefinition>],
    /// Each fragment is measured once (`None` while it is being measured):
    /// fragments spreading fragments twice over would otherwise take
    /// exponential time to count. Its nodes are per object of its type, so
    /// a spread multiplies them by however many objects it sits in.
    fragments: HashMap<&'a str, Option<Size>>,
}

impl<'a> Measure<'a> {
    /// `ty`: the type the selections are made on, when known; under an
    /// unknown one (a typo validation will report, introspection) nothing
    /// counts as a node.
    fn selection_set(
        &mut self,
        set: &'a SelectionSet,
        ty: Option<&'a MetaType>,
        nesting: usize,
    ) -> Result<Size, GqlError> {
        if nesting > MAX_NESTING {
            return Err(GqlError::QueryTooComplex(format!(
                "selections are nested more than {MAX_NESTING} times"
            )));
        }
        let mut size = Size::default();
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => self.field(&field.node, ty, nesting)?,
                Selection::InlineFragment(fragment) => {
                    let fragment = &fragment.node;
                    let ty = match &fragment.type_condition {
                        Some(condition) => self.registry.types.get(condition.node.on.node.as_str()),
                        None => ty,
                    };
                    self.selection_set(&fragment.selection_set.node, ty, nesting + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), nesting + 1)?
                }
            };
            size.merge(inner);
        }
        Ok(size)
    }

    /// Nodes are counted as a list would fill: a connection (a field with
    /// `first`) returns up to `first` nodes, its edges, their `node`s and
    /// its `pageInfo` being parts of those; a list without `first` up to its
    /// [`LIST_BOUNDS`]; any other object one. Each is counted once per
    /// object it sits in.
    fn field(
        &mut self,
        field: &'a Field,
        parent: Option<&'a MetaType>,
        nesting: usize,
    ) -> Result<Size, GqlError> {
        let name = field.name.node.as_str();
        let definition = parent
            .filter(|_| !name.starts_with("__"))
            .and_then(|ty| ty.field_by_name(name));
        let ty = definition.and_then(|d| self.registry.concrete_type_by_name(&d.ty));
        let below = &field.selection_set.node;
        let children = if below.items.is_empty() {
            Size::default()
        } else {
            self.selection_set(below, ty, nesting + 1)?
        };
        let (each, own) = match (parent, definition, ty) {
            (Some(parent), Some(definition), Some(ty)) if ty.is_composite() => {
                if is_connection_part(parent) {
                    (1, 0)
                } else if definition.args.contains_key("first") {
                    (self.first(field), 1)
                } else if is_list(&definition.ty) {
                    (list_bound(ty.name()), 1)
                } else {
                    (1, 1)
                }
            }
            _ => (0, 0),
        };
        Ok(Size {
            depth: children.depth + 1,
            fields: children.fields.saturating_add(1),
            nodes: children.nodes.saturating_add(own).saturating_mul(each),
        })
    }

    /// The field's `first`, from the query or its variable, as the resolver
    /// would take it (20 when omitted or null, within 0 to 100).
    fn first(&self, field: &Field) -> u64 {
        let value = field.get_argument("first").and_then(|value| {
            value
                .node
                .clone()
                .into_const_with(|name| self.variable(&name).ok_or(()))
                .ok()
        });
        let first = match value {
            Some(Value::Number(n)) => n.as_i64().unwrap_or(i64::MAX),
            // Null, omitted, or a value validation will refuse.
            _ => i64::from(DEFAULT_FIRST),
        };
        first.clamp(0, i64::from(MAX_FIRST)).unsigned_abs()
    }

    /// A variable's value, or its default in the operation that runs.
    fn variable(&self, name: &Name) -> Option<Value> {
        self.variables.get(name).cloned().or_else(|| {
            let definition = self.defaults.iter().find(|d| d.node.name.node == *name)?;
            Some(definition.node.default_value.as_ref()?.node.clone())
        })
    }

    fn fragment(&mut self, name: &'a str, nesting: usize) -> Result<Size, GqlError> {
        match self.fragments.get(name) {
            Some(Some(size)) => return Ok(*size),
            Some(None) => {
                return Err(GqlError::bad_input(format!(
                    "fragment {name} spreads itself"
                )));
            }
            None => {}
        }
        // An unknown fragment is left for validation to report.
        let Some(fragment) = self.doc.fragments.get(name) else {
            return Ok(Size::default());
        };
        let fragment = &fragment.node;
        let ty = self
            .registry
            .types
            .get(fragment.type_condition.node.on.node.as_str());
        self.fragments.insert(name, None);
        let size = self.selection_set(&fragment.selection_set.node, ty, nesting)?;
        self.fragments.insert(name, Some(size));
        Ok(size)
    }
}

/// A Relay connection type or one of its edge types, whose fields are parts
/// of the nodes their connection field counts.
fn is_connection_part(ty: &MetaType) -> bool {
    let name = ty.name();
    name.ends_with("Connection") || name.ends_with("Edge")
}

fn is_list(ty: &str) -> bool {
    matches!(
        MetaTypeName::create(ty).unwrap_non_null(),
        MetaTypeName::List(_)
    )
}

fn list_bound(item_type: &str) -> u64 {
    LIST_BOUNDS
        .iter()
        .find(|(name, _)| *name == item_type)
        .map_or(u64::from(MAX_FIRST.unsigned_abs()), |(_, bound)| *bound)
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use serde_json::json;

    use super::*;

    static LIMITS: LazyLock<QueryLimits> = LazyLock::new(QueryLimits::new);

    /// The code a query is refused with (`PARSE` for a parser error), if any.
    fn code_with(query: &str, variables: serde_json::Value) -> Option<String> {
        let doc = match parse(query) {
            Ok(doc) => doc,
            Err(error) => {
                let code = error.extensions.and_then(|e| e.get("code").cloned());
                return Some(code.map_or("PARSE".to_owned(), |c| c.to_string().replace('"', "")));
            }
        };
        let variables = Variables::from_json(variables);
        check(&doc, &LIMITS.registry, &variables, None)
            .err()
            .map(|e| e.code().to_owned())
    }

    fn code(query: &str) -> Option<String> {
        code_with(query, json!({}))
    }

    const TOO_COMPLEX: Option<&str> = Some("QUERY_TOO_COMPLEX");

    fn nested(levels: usize) -> String {
        let mut query = String::from("{ ");
        for _ in 1..levels {
            query.push_str("a { ");
        }
        query.push('b');
        for _ in 0..levels {
            query.push_str(" }");
        }
        query
    }

    #[test]
    fn depth_counts_fields_from_the_outermost_as_level_one() {
        assert_eq!(code(&nested(15)).as_deref(), None);
        assert_eq!(code(&nested(16)).as_deref(), TOO_COMPLEX);
        assert_eq!(code(&nested(30)).as_deref(), TOO_COMPLEX);
        // Fragments add no level of their own.
        let query = format!(
            "{{ ...F }} fragment F on Query {{ ... on Query {{ {} }} }}",
            &nested(15)[2..nested(15).len() - 2]
        );
        assert_eq!(code(&query).as_deref(), None);
    }

    #[test]
    fn every_field_and_alias_counts() {
        let fields = |n: usize| {
            let list: Vec<String> = (0..n).map(|i| format!("a{i}: id")).collect();
            format!("{{ {} }}", list.join(" "))
        };
        assert_eq!(code(&fields(300)).as_deref(), None);
        assert_eq!(code(&fields(301)).as_deref(), TOO_COMPLEX);
        // The outer field and 150 × (edges, node).
        let list: Vec<String> = (0..150)
            .map(|i| format!("a{i}: edges {{ node }}"))
            .collect();
        assert_eq!(
            code(&format!("{{ e {{ {} }} }}", list.join(" "))).as_deref(),
            TOO_COMPLEX
        );
    }

    #[test]
    fn fragments_count_each_time_they_are_spread_without_exponential_work() {
        // 2^40 fields once expanded.
        let mut query = String::from("{ ...F0 }");
        for i in 0..40 {
            query.push_str(&format!(
                " fragment F{i} on Q {{ ...F{} ...F{} }}",
                i + 1,
                i + 1
            ));
        }
        query.push_str(" fragment F40 on Q { id }");
        assert_eq!(code(&query).as_deref(), TOO_COMPLEX);
        assert_eq!(
            code("{ ...A } fragment A on Q { x ...B } fragment B on Q { ...A }").as_deref(),
            Some("BAD_USER_INPUT")
        );
    }

    /// `events(first: outer) { … account { events(first: inner) … } }`.
    fn events_of_accounts(outer: &str, inner: &str) -> String {
        format!(
            "{{ events(first: {outer}) {{ edges {{ node {{ id account {{ id
                events(first: {inner}) {{ edges {{ node {{ id }} }} pageInfo {{ hasNextPage }} }}
            }} }} }} }} }}"
        )
    }

    #[test]
    fn nodes_multiply_through_nested_connections() {
        // 100 events + 100 accounts + 100 × 100 events.
        assert_eq!(
            code(&events_of_accounts("100", "100")).as_deref(),
            TOO_COMPLEX
        );
        // 100 + 100 + 100 × 98 = 10,000: the limit itself fits.
        assert_eq!(code(&events_of_accounts("100", "98")).as_deref(), None);
        assert_eq!(
            code(&events_of_accounts("100", "99")).as_deref(),
            TOO_COMPLEX
        );
        assert_eq!(code(&events_of_accounts("100", "10")).as_deref(), None);
        // Omitted `first` is 20: 20 + 20 + 400.
        assert_eq!(
            code("{ events { edges { node { account { events { edges { node { id } } } } } } } }")
                .as_deref(),
            None
        );
        // Three levels from `accounts` reach 10^6.
        let deep = "{ accounts(first: 100) { edges { node {
            events(first: 100) { edges { node { account { events(first: 100) {
                edges { node { id } } } } } } } } } } }";
        assert_eq!(code(deep).as_deref(), TOO_COMPLEX);
        // A first over 100 counts as the 100 the resolver could return at most
        // (it refuses the argument itself).
        assert_eq!(code(&events_of_accounts("1000", "1")).as_deref(), None);
    }

    #[test]
    fn variables_and_their_defaults_give_first() {
        let query = "query($n: Int, $m: Int = 100) {
            events(first: $n) { edges { node { account {
                events(first: $m) { edges { node { id } } } } } } } }";
        assert_eq!(code_with(query, json!({"n": 100})).as_deref(), TOO_COMPLEX);
        assert_eq!(
            code_with(query, json!({"n": 100, "m": 10})).as_deref(),
            None
        );
        // $n omitted or null: 20 + 20 + 20 × 100.
        assert_eq!(code_with(query, json!({})).as_deref(), None);
        assert_eq!(code_with(query, json!({"n": null})).as_deref(), None);
        // Defaults come from the operation that runs.
        let two = "query A($n: Int = 100) { events(first: $n) { edges { node { account {
                events(first: $n) { edges { node { id } } } } } } } }
            query B($n: Int = 1) { events(first: $n) { edges { node { id } } } }";
        let doc = parse(two).unwrap();
        let none = Variables::default();
        assert!(check(&doc, &LIMITS.registry, &none, Some("A")).is_err());
        assert!(check(&doc, &LIMITS.registry, &none, Some("B")).is_ok());
    }

    #[test]
    fn aliases_and_fragment_spreads_add_up() {
        let half = "edges { node { account { events(first: 49) { edges { node { id } } } } } }";
        let one = format!("{{ a: events(first: 100) {{ {half} }} }}");
        let two =
            format!("{{ a: events(first: 100) {{ {half} }} b: events(first: 100) {{ {half} }} }}");
        assert_eq!(code(&one).as_deref(), None);
        assert_eq!(code(&two).as_deref(), TOO_COMPLEX);
        // A fragment's nodes count once per object it is spread in, and once
        // per spread.
        let fragment = "fragment A on Account { events(first: 100) { edges { node { id } } } }";
        let once = format!("{{ account(id: \"x\") {{ ...A }} }} {fragment}");
        let per_event = format!(
            "{{ events(first: 100) {{ edges {{ node {{ account {{ ...A }} }} }} }} }} {fragment}"
        );
        let spread_twice: String = (0..100)
            .map(|i| format!("a{i}: account(id: \"x\") {{ ...A }} "))
            .collect();
        let spread_twice = format!("{{ {spread_twice} }} {fragment}");
        assert_eq!(code(&once).as_deref(), None);
        assert_eq!(code(&per_event).as_deref(), TOO_COMPLEX);
        assert_eq!(code(&spread_twice).as_deref(), TOO_COMPLEX);
    }

    #[test]
    fn lists_without_first_are_bounded() {
        // 100 events + 100 accounts + 100 × 4 notification configs.
        let query = "{ events(first: 100) { edges { node { account {
            notificationConfigs { id } } } } } }";
        assert_eq!(code(query).as_deref(), None);
        let MetaType::Enum { enum_values, .. } = &LIMITS.registry.types["NotificationType"] else {
            panic!("NotificationType is an enum");
        };
        assert_eq!(list_bound("NotificationConfig"), enum_values.len() as u64);
        // Every other list of objects is a connection's edges.
        for ty in LIMITS.registry.types.values() {
            for field in ty.fields().into_iter().flat_map(|f| f.values()) {
                let item = MetaTypeName::concrete_typename(&field.ty);
                let composite = LIMITS
                    .registry
                    .types
                    .get(item)
                    .is_some_and(MetaType::is_composite);
                if composite && is_list(&field.ty) && !is_connection_part(ty) {
                    assert!(
                        LIST_BOUNDS.iter().any(|(name, _)| *name == item),
                        "{}.{} needs a bound in LIST_BOUNDS",
                        ty.name(),
                        field.name
                    );
                }
            }
        }
    }

    #[test]
    fn subscriptions_count_per_event() {
        let query = |first: u32| {
            format!(
                "subscription {{ events {{ id account {{ events(first: {first}) {{
                    edges {{ node {{ account {{ events(first: {first}) {{ edges {{ node {{ id }} }} }} }} }} }}
                }} }} }} }}"
            )
        };
        assert_eq!(code(&query(10)).as_deref(), None);
        assert_eq!(code(&query(100)).as_deref(), TOO_COMPLEX);
    }

    #[test]
    fn text_nested_past_the_parsers_limits_is_too_complex() {
        let deep =
            |levels: usize| format!("{{ {}b{} }}", "a { ".repeat(levels), " }".repeat(levels));
        // Past the parser's own recursion limit (64), and far past it (its
        // stack guard).
        assert_eq!(code(&deep(100)).as_deref(), TOO_COMPLEX);
        assert_eq!(code(&deep(100_000)).as_deref(), TOO_COMPLEX);
        let list = format!("{{ a(x: {}1{}) }}", "[".repeat(100), "]".repeat(100));
        assert_eq!(code(&list).as_deref(), TOO_COMPLEX);
        // Brackets in strings and comments do not nest.
        let quoted = "{".repeat(200);
        for text in [
            format!("{{ a(x: \"{quoted}\") }}"),
            format!("{{ a(x: \"\\\"{quoted}\") }}"),
            format!("{{ a(x: \"\"\"{quoted} \\\"\"\" {quoted}\"\"\") }}"),
            format!("{{ a # {quoted}\n }}"),
        ] {
            assert!(!nested_deeper_than(&text, MAX_NESTING), "{text}");
        }
        assert!(nested_deeper_than(
            &format!("{{ a # x\n {quoted} }}"),
            MAX_NESTING
        ));
        // An ordinary syntax error is the parser's.
        assert_eq!(code("{ a(").as_deref(), Some("PARSE"));
    }

    #[test]
    fn a_kept_document_is_checked_again_with_each_requests_variables() {
        let limits = QueryLimits::new();
        let query = "query($m: Int) { events(first: 100) { edges { node { account {
            events(first: $m) { edges { node { id } } } } } } } }";
        let prepare = |m: i32| {
            let mut request =
                Request::new(query).variables(Variables::from_json(json!({ "m": m })));
            limits.prepare(&mut request).map(|()| request)
        };
        let mut request = prepare(10).expect("100 + 100 + 100 × 10 nodes fit");
        assert!(limits.kept().contains(query));
        let refused = prepare(100).expect_err("100 × 100 nodes do not fit");
        assert!(refused.message.contains("nodes"), "{}", refused.message);
        assert!(prepare(10).is_ok());
        // The document handed on is the one its text parses into.
        let mut parsed = parse(query).unwrap();
        super::super::compact::document(&mut parsed);
        let handed = request.parsed_query().expect("set");
        assert_eq!(format!("{handed:?}"), format!("{parsed:?}"));
    }

    #[test]
    fn only_short_texts_are_kept() {
        let limits = QueryLimits::new();
        let long = format!("{{ __typename }}{}", " ".repeat(PARSED_KEPT_BYTES));
        for query in ["{ __typename }", long.as_str()] {
            limits.prepare(&mut Request::new(query)).unwrap();
        }
        assert!(limits.kept().contains("{ __typename }"));
        assert_eq!(limits.kept().len(), 1);
    }

    #[test]
    fn graphiql_introspection_fits() {
        assert_eq!(code(INTROSPECTION).as_deref(), None);
    }

    /// graphql-js `getIntrospectionQuery()` with every option on, as GraphiQL sends it.
    const INTROSPECTION: &str = r#"
    query IntrospectionQuery {
      __schema {
        description
        queryType { name }
        mutationType { name }
        subscriptionType { name }
        types { ...FullType }
        directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
      }
    }
    fragment FullType on __Type {
      kind name description specifiedByURL isOneOf
      fields(includeDeprecated: true) {
        name description args(includeDeprecated: true) { ...InputValue }
        type { ...TypeRef } isDeprecated deprecationReason
      }
      inputFields(includeDeprecated: true) { ...InputValue }
      interfaces { ...TypeRef }
      enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
      possibleTypes { ...TypeRef }
    }
    fragment InputValue on __InputValue {
      name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
    }
    fragment TypeRef on __Type {
      kind name
      ofType { kind name ofType { kind name ofType { kind name ofType { kind name
        ofType { kind name ofType { kind name ofType { kind name ofType { kind name
        ofType { kind name } } } } } } } } }
    }
    "#;
}
