//! Parsed documents made to hold no spare room. The parser's vectors grow
//! to four items at their first, and a subscription keeps its document for
//! its whole life: that spare room was about a tenth of an idle
//! subscription's memory (bench/RESULTS.md, Live subscriptions).
use async_graphql::{
    Positioned,
    parser::types::{
        Directive, DocumentOperations, ExecutableDocument, OperationDefinition, Selection,
        SelectionSet,
    },
};

pub fn document(doc: &mut ExecutableDocument) {
    match &mut doc.operations {
        DocumentOperations::Single(operation) => self::operation(&mut operation.node),
        DocumentOperations::Multiple(operations) => {
            operations.values_mut().for_each(|o| operation(&mut o.node));
        }
    }
    for fragment in doc.fragments.values_mut() {
        directives(&mut fragment.node.directives);
        selections(&mut fragment.node.selection_set.node);
    }
}

fn operation(operation: &mut OperationDefinition) {
    operation.variable_definitions.shrink_to_fit();
    for variable in &mut operation.variable_definitions {
        directives(&mut variable.node.directives);
    }
    directives(&mut operation.directives);
    selections(&mut operation.selection_set.node);
}

/// Recursive: the document is at most [`super::limits::MAX_NESTING`] deep (checked
/// before it was parsed).
fn selections(set: &mut SelectionSet) {
    set.items.shrink_to_fit();
    for item in &mut set.items {
        match &mut item.node {
            Selection::Field(field) => {
                field.node.arguments.shrink_to_fit();
                directives(&mut field.node.directives);
                selections(&mut field.node.selection_set.node);
            }
            Selection::FragmentSpread(spread) => directives(&mut spread.node.directives),
            Selection::InlineFragment(inline) => {
                directives(&mut inline.node.directives);
                selections(&mut inline.node.selection_set.node);
            }
        }
    }
}

fn directives(directives: &mut Vec<Positioned<Directive>>) {
    directives.shrink_to_fit();
    for directive in directives {
        directive.node.arguments.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    #[test]
    fn a_compacted_document_is_the_same_document() {
        let text = "query Q($a: Int = 1) @o { f(a: $a, b: 2) @include(if: true) { g \
                    ...F ... on T @s { h } } } fragment F on T @f(y: 2) { i { j } }";
        let mut doc = parse_query(text).unwrap();
        let parsed = format!("{doc:?}");
        super::document(&mut doc);
        assert_eq!(format!("{doc:?}"), parsed);
        let (_, operation) = doc.operations.iter().next().expect("one operation");
        let field = &operation.node.selection_set.node.items;
        assert_eq!((field.len(), field.capacity()), (1, 1));
    }
}
