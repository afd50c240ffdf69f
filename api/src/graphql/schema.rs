use std::{future::ready, sync::Arc};

use async_graphql::{Request, Response, Schema, SchemaBuilder};
use futures::{StreamExt, stream::BoxStream};
use sea_orm::DatabaseConnection;

use super::{
    error::assign_codes,
    limits::{MAX_NESTING, QueryLimits},
    loaders::Loaders,
    mutation::Mutation,
    query::Query,
    subscription::{Selection, Subscription},
};
use crate::{
    clients::canopy::CanopyClient,
    live::{Feed, Shutdown},
    store::writer::Writer,
};

/// The schema, run only through [`Self::execute`] and
/// [`Self::execute_stream`]: the limits are checked before it runs and
/// every error gets its code. Not async-graphql extensions: with any
/// extension installed, every resolved field of every response goes
/// through the extension chain.
#[derive(Clone)]
pub struct GatewaySchema {
    schema: Schema<Query, Mutation, Subscription>,
    limits: Arc<QueryLimits>,
}

impl GatewaySchema {
    pub async fn execute(&self, mut request: Request) -> Response {
        let mut response = match self.limits.prepare(&mut request) {
            Ok(()) => self.schema.execute(request).await,
            Err(error) => Response::from_errors(vec![error]),
        };
        assign_codes(&mut response.errors);
        response
    }

    pub fn execute_stream(&self, request: Request) -> BoxStream<'static, Response> {
        let selection = Selection::of(&request);
        let mut request = request.data(selection);
        let responses = match self.limits.prepare(&mut request) {
            Ok(()) => self.schema.execute_stream(request),
            Err(error) => futures::stream::once(ready(Response::from_errors(vec![error]))).boxed(),
        };
        responses
            .map(|mut response| {
                assign_codes(&mut response.errors);
                response
            })
            .boxed()
    }
}

/// The schema, reading `db`, following `feed` until `shutdown`, storing
/// through `writer` and calling `canopy` (when its API is configured).
/// Requests carry their [`crate::auth::Caller`].
pub fn build(
    db: DatabaseConnection,
    feed: Feed,
    shutdown: Shutdown,
    writer: Writer,
    canopy: Option<CanopyClient>,
) -> GatewaySchema {
    let schema = builder()
        .data(Loaders::new(&db))
        .data(db)
        .data(feed)
        .data(writer)
        .data(canopy)
        .data(shutdown)
        .finish();
    GatewaySchema {
        schema,
        limits: Arc::new(QueryLimits::new()),
    }
}

/// The SDL, as `gateway schema` prints it and `schema.graphql` holds it.
pub fn sdl() -> String {
    builder().finish().sdl()
}

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_recursive_depth(MAX_NESTING)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, HashMap};

    use async_graphql::parser::{
        parse_schema,
        types::{InputValueDefinition, TypeKind, TypeSystemDefinition},
    };

    use super::*;

    #[test]
    fn schema_graphql_is_what_the_code_builds() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");
        let committed = std::fs::read_to_string(path).expect("schema.graphql at the repo root");
        assert!(
            committed == sdl(),
            "schema.graphql differs from the code's schema; \
             regenerate it with `cargo run -p api -- schema > schema.graphql`"
        );
    }

    #[test]
    fn schema_has_every_contract_name() {
        let ours = shapes(&sdl());
        let contract = shapes(include_str!("contract.graphql"));
        for (name, wanted) in &contract {
            let have = ours
                .get(name)
                .unwrap_or_else(|| panic!("type {name} is missing"));
            match (wanted, have) {
                (Shape::Scalar, Shape::Scalar) => {}
                (Shape::Enum(wanted), Shape::Enum(have)) => {
                    assert_eq!(wanted, have, "values of enum {name}");
                }
                (Shape::Fields(wanted), Shape::Fields(have)) => {
                    for (field, (ty, args)) in wanted {
                        let (have_ty, have_args) = have
                            .get(field)
                            .unwrap_or_else(|| panic!("{name}.{field} is missing"));
                        assert_eq!(ty, have_ty, "type of {name}.{field}");
                        for (arg, ty) in args {
                            assert_eq!(Some(ty), have_args.get(arg), "{name}.{field}({arg})");
                        }
                        for (arg, ty) in have_args {
                            assert!(
                                args.contains_key(arg) || !ty.ends_with('!'),
                                "{name}.{field}({arg}) is an extra required argument"
                            );
                        }
                    }
                }
                _ => panic!("{name} is not the kind of type the contract says"),
            }
        }
    }

    #[derive(Debug)]
    enum Shape {
        Scalar,
        Enum(BTreeSet<String>),
        /// Field → (type, argument → type).
        Fields(BTreeMap<String, (String, BTreeMap<String, String>)>),
    }

    fn shapes(sdl: &str) -> HashMap<String, Shape> {
        let doc = parse_schema(sdl).expect("SDL parses");
        let args = |args: &[async_graphql::Positioned<InputValueDefinition>]| {
            args.iter()
                .map(|a| (a.node.name.node.to_string(), a.node.ty.node.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let mut shapes = HashMap::new();
        for definition in doc.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let shape = match ty.node.kind {
                TypeKind::Scalar => Shape::Scalar,
                TypeKind::Enum(e) => Shape::Enum(
                    e.values
                        .iter()
                        .map(|v| v.node.value.node.to_string())
                        .collect(),
                ),
                TypeKind::Object(o) => Shape::Fields(
                    o.fields
                        .iter()
                        .map(|f| {
                            let f = &f.node;
                            let typed = (f.ty.node.to_string(), args(&f.arguments));
                            (f.name.node.to_string(), typed)
                        })
                        .collect(),
                ),
                TypeKind::InputObject(i) => Shape::Fields(
                    i.fields
                        .iter()
                        .map(|f| {
                            let typed = (f.node.ty.node.to_string(), BTreeMap::new());
                            (f.node.name.node.to_string(), typed)
                        })
                        .collect(),
                ),
                TypeKind::Interface(_) | TypeKind::Union(_) => continue,
            };
            shapes.insert(ty.node.name.node.to_string(), shape);
        }
        shapes
    }
}
