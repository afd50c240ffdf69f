//! Depth and size limits, checked on the parsed document before it is
//! validated or run, so a refused query never reaches the store.
use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    Request, ServerResult,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest},
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use super::error::GqlError;

/// A query within the limits is a few kilobytes; this leaves room for
/// variables without letting a request (or a WebSocket message) tie up memory.
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// Deepest field allowed; the outermost field is level 1.
pub const MAX_DEPTH: usize = 15;
/// Most fields one operation may select, counting every field, leaf or not,
/// each alias, and each field of a fragment as often as it is spread.
pub const MAX_FIELDS: usize = 300;
/// Nested selection sets (fields, fragments, inline fragments) allowed, as
/// async-graphql's own parser counts them. Bounds this check's recursion.
pub const MAX_NESTING: usize = 64;

pub struct QueryLimits;

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(QueryLimits)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for QueryLimits {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Parsed once here; async-graphql reuses the parsed document.
        check(request.parsed_query()?).map_err(GqlError::into_server_error)?;
        next.run(ctx, request).await
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Size {
    depth: usize,
    fields: usize,
}

impl Size {
    fn merge(&mut self, other: Size) {
        self.depth = self.depth.max(other.depth);
        self.fields = self.fields.saturating_add(other.fields);
    }
}

/// Refuses a document with an operation over the limits.
pub fn check(doc: &ExecutableDocument) -> Result<(), GqlError> {
    let mut measure = Measure {
        doc,
        fragments: HashMap::new(),
    };
    for (_, operation) in doc.operations.iter() {
        let size = measure.selection_set(&operation.node.selection_set.node, 0)?;
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
    }
    Ok(())
}

struct Measure<'a> {
    doc: &'a ExecutableDocument,
    /// Each fragment is measured once (`None` while it is being measured):
    /// fragments spreading fragments twice over would otherwise take
    /// exponential time to count.
    fragments: HashMap<&'a str, Option<Size>>,
}

impl<'a> Measure<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, nesting: usize) -> Result<Size, GqlError> {
        if nesting > MAX_NESTING {
            return Err(GqlError::QueryTooComplex(format!(
                "selections are nested more than {MAX_NESTING} times"
            )));
        }
        let mut size = Size::default();
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => {
                    let below = &field.node.selection_set.node;
                    let children = if below.items.is_empty() {
                        Size::default()
                    } else {
                        self.selection_set(below, nesting + 1)?
                    };
                    Size {
                        depth: children.depth + 1,
                        fields: children.fields.saturating_add(1),
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set.node, nesting + 1)?
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str(), nesting + 1)?
                }
            };
            size.merge(inner);
        }
        Ok(size)
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
        self.fragments.insert(name, None);
        let size = self.selection_set(&fragment.node.selection_set.node, nesting)?;
        self.fragments.insert(name, Some(size));
        Ok(size)
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn checked(query: &str) -> Result<(), GqlError> {
        check(&parse_query(query).expect("query parses"))
    }

    fn code(query: &str) -> Option<&'static str> {
        checked(query).err().map(|e| e.code())
    }

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
        assert_eq!(code(&nested(15)), None);
        assert_eq!(code(&nested(16)), Some("QUERY_TOO_COMPLEX"));
        assert_eq!(code(&nested(30)), Some("QUERY_TOO_COMPLEX"));
        // Fragments add no level of their own.
        let query = format!(
            "{{ ...F }} fragment F on Query {{ ... on Query {{ {} }} }}",
            &nested(15)[2..nested(15).len() - 2]
        );
        assert_eq!(code(&query), None);
    }

    #[test]
    fn every_field_and_alias_counts() {
        let fields = |n: usize| {
            let list: Vec<String> = (0..n).map(|i| format!("a{i}: id")).collect();
            format!("{{ {} }}", list.join(" "))
        };
        assert_eq!(code(&fields(300)), None);
        assert_eq!(code(&fields(301)), Some("QUERY_TOO_COMPLEX"));
        // The outer field and 150 × (edges, node).
        let list: Vec<String> = (0..150)
            .map(|i| format!("a{i}: edges {{ node }}"))
            .collect();
        assert_eq!(
            code(&format!("{{ e {{ {} }} }}", list.join(" "))),
            Some("QUERY_TOO_COMPLEX")
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
        assert_eq!(code(&query), Some("QUERY_TOO_COMPLEX"));
        assert_eq!(
            code("{ ...A } fragment A on Q { x ...B } fragment B on Q { ...A }"),
            Some("BAD_USER_INPUT")
        );
    }

    #[test]
    fn graphiql_introspection_fits() {
        assert_eq!(code(INTROSPECTION), None);
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
