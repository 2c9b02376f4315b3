//! Properties that must hold for every input, shared by the fuzz targets (`fuzz/fuzz_targets`)
//! and the property tests (`tests/integration/reliability.rs`, which includes this file).
//! Each check returns `Err` with a description when a property fails; a panic anywhere below
//! is a finding too.

use baton::find::hcl::{self, FileKind, Files, Keep, LoadedFile, eval};
use baton::find::scan;
use baton::find::source::Source;
use baton::spec::Spec;
use baton::update::edit::{self, Splice};
use baton::version::{Constraint, Version};
use hcl_edit::visit::{self, Visit};
use std::path::Path;
use std::sync::Arc;

/// No other files: includes do not resolve.
pub struct NoFiles;

impl Files for NoFiles {
    fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
        Err(format!("{} is not available", path.display()))
    }
    fn exists(&self, _: &Path) -> bool {
        false
    }
}

/// `Source::parse` never panics, and a version it locates is exactly at its range in the input.
pub fn check_source(raw: &str) -> Result<(), String> {
    let src = Source::parse(raw);
    let _ = src.to_string();
    if let Some(id) = src.dependency_id() {
        if id.is_empty() || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{raw:?}: dependency ID {id:?}"));
        }
    }
    if let Some(loc) = src.inline_version() {
        if raw.get(loc.range.clone()) != Some(loc.value.as_str()) {
            return Err(format!(
                "{raw:?}: version {:?} is not at {:?} (found {:?})",
                loc.value,
                loc.range,
                raw.get(loc.range.clone())
            ));
        }
    }
    match &src {
        Source::Git(g) if g.owner.is_empty() || g.repo.is_empty() => {
            Err(format!("{raw:?}: git source without owner or repo: {g:?}"))
        }
        Source::Registry(r)
            if r.namespace.is_empty() || r.name.is_empty() || r.provider.is_empty() =>
        {
            Err(format!(
                "{raw:?}: registry source with an empty part: {r:?}"
            ))
        }
        _ => Ok(()),
    }
}

/// Whether `baton update` would edit this usage (as the scan decides: a git or registry source
/// whose version is a version, or a constraint for a registry `version` attribute).
fn managed(found: &hcl::Found) -> bool {
    let (Ok(src), Some(current), Some(_)) = (&found.resolved, &found.current, &found.site) else {
        return false;
    };
    if found.not_editable.is_some() {
        return false;
    }
    match src {
        Source::Registry(r) if r.query_version.is_none() => Constraint::parse(current).is_ok(),
        Source::Registry(_) | Source::Git(_) => scan::ref_problem(current).is_none(),
        _ => false,
    }
}

/// Records the tree as a stream of tokens: node kinds, names, operators and the values of
/// strings and template literals (spans, spacing and comments left out).
#[derive(Default)]
struct Shape {
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// Structure, a name or an operator.
    Node(String),
    /// The value of a string or of a template literal.
    Text(String),
}

impl Shape {
    fn node(&mut self, s: impl Into<String>) {
        self.tokens.push(Token::Node(s.into()));
    }
}

impl Visit for Shape {
    fn visit_ident(&mut self, node: &hcl_edit::Decorated<hcl_edit::Ident>) {
        self.node(format!("ident {}", node.as_str()));
    }
    fn visit_null(&mut self, _: &hcl_edit::Decorated<hcl_edit::expr::Null>) {
        self.node("null");
    }
    fn visit_bool(&mut self, node: &hcl_edit::Decorated<bool>) {
        self.node(format!("bool {}", node.value()));
    }
    fn visit_u64(&mut self, node: &hcl_edit::Decorated<u64>) {
        self.node(format!("index {}", node.value()));
    }
    fn visit_number(&mut self, node: &hcl_edit::Formatted<hcl_edit::Number>) {
        self.node(format!("number {}", node.value()));
    }
    fn visit_string(&mut self, node: &hcl_edit::Decorated<String>) {
        self.tokens.push(Token::Text(node.value().clone()));
    }
    fn visit_literal(&mut self, node: &hcl_edit::Spanned<String>) {
        self.tokens.push(Token::Text(node.value().clone()));
    }
    fn visit_splat(&mut self, _: &hcl_edit::Decorated<hcl_edit::expr::Splat>) {
        self.node("splat");
    }
    fn visit_unary_operator(&mut self, node: &hcl_edit::Spanned<hcl_edit::expr::UnaryOperator>) {
        self.node(format!("unary {:?}", node.value()));
    }
    fn visit_binary_operator(
        &mut self,
        node: &hcl_edit::Decorated<hcl_edit::expr::BinaryOperator>,
    ) {
        self.node(format!("binary {:?}", node.value()));
    }
    fn visit_block(&mut self, node: &hcl_edit::structure::Block) {
        self.node("block(");
        visit::visit_block(self, node);
        self.node(")");
    }
    fn visit_attr(&mut self, node: &hcl_edit::structure::Attribute) {
        self.node("attr(");
        visit::visit_attr(self, node);
        self.node(")");
    }
    fn visit_expr(&mut self, node: &hcl_edit::expr::Expression) {
        use hcl_edit::expr::Expression as E;
        let kind = match node {
            E::Null(_) => "Null",
            E::Bool(_) => "Bool",
            E::Number(_) => "Number",
            E::String(_) => "String",
            E::Array(_) => "Array",
            E::Object(_) => "Object",
            E::StringTemplate(_) => "StringTemplate",
            E::HeredocTemplate(_) => "Heredoc",
            E::Parenthesis(_) => "Parenthesis",
            E::Variable(_) => "Variable",
            E::Conditional(_) => "Conditional",
            E::FuncCall(_) => "FuncCall",
            E::Traversal(_) => "Traversal",
            E::UnaryOp(_) => "UnaryOp",
            E::BinaryOp(_) => "BinaryOp",
            E::ForExpr(_) => "ForExpr",
        };
        self.node(format!("{kind}("));
        visit::visit_expr(self, node);
        self.node(")");
    }
}

fn shape(text: &str) -> Result<Vec<Token>, String> {
    let (body_text, _) = hcl::strip_bom(text);
    let body =
        hcl::parse(body_text).map_err(|e| format!("{}:{}: {}", e.line, e.column, e.message))?;
    let mut shape = Shape::default();
    shape.visit_body(&body);
    Ok(shape.tokens)
}

/// What Baton parses of a file is enough: `hcl::find`, which blanks the top-level items that
/// cannot hold a source before parsing, finds exactly what parsing the whole text finds whenever
/// the whole text parses; the `locals` and `include` blocks read from an included file are those
/// of the whole text; and blanking keeps every byte offset and line.
pub fn check_skim(file_name: &str, text: &str) -> Result<(), String> {
    let (body_text, _) = hcl::strip_bom(text);
    for keep in [Keep::Sources, Keep::References] {
        let Some(kept) = hcl::skeleton::skeleton(body_text, keep) else {
            continue;
        };
        if kept.len() != body_text.len() {
            return Err(format!("{keep:?}: blanking changed the length\n{text}"));
        }
        if let Some(at) = kept
            .bytes()
            .zip(body_text.bytes())
            .position(|(k, t)| k != t && (k != b' ' || t == b'\n'))
        {
            return Err(format!(
                "{keep:?}: byte {at} changed otherwise than to a space\n{text}"
            ));
        }
    }
    let Ok(whole) = hcl::parse(body_text) else {
        return Ok(());
    };
    let references = |body: &hcl_edit::structure::Body| -> Vec<String> {
        body.blocks()
            .filter(|b| matches!(b.ident.as_str(), "locals" | "include"))
            .map(|b| {
                let labels: Vec<&str> = b.labels.iter().map(|l| l.as_str()).collect();
                format!("{} {labels:?} {:?}", b.ident.as_str(), b.body)
            })
            .collect()
    };
    let skimmed = hcl::parse_items(body_text, Keep::References).map_err(|e| {
        format!(
            "References: the parse fails ({}) where the whole text parses\n{text}",
            e.message
        )
    })?;
    if references(&whole) != references(&skimmed) {
        return Err(format!(
            "References: locals or includes differ\n--- whole ---\n{:#?}\n--- skimmed ---\n{:#?}\n--- text ---\n{text}",
            references(&whole),
            references(&skimmed)
        ));
    }
    let path = Path::new(file_name);
    let Some(kind) = FileKind::of(path) else {
        return Ok(());
    };
    let all = hcl::find_parsing_all(path, kind, text, &NoFiles)
        .map_err(|e| format!("the whole text parses, then does not: {}", e.message))?;
    let found = hcl::find(path, kind, text, &NoFiles).map_err(|e| {
        format!(
            "find fails ({}) where the whole text parses\n{text}",
            e.message
        )
    })?;
    let (all, found) = (format!("{all:#?}"), format!("{found:#?}"));
    if all != found {
        return Err(format!(
            "find differs from a parse of the whole text\n--- whole ---\n{all}\n--- find ---\n{found}\n--- text ---\n{text}"
        ));
    }
    Ok(())
}

/// Edits every managed version of a file to `target` as `baton update` does, and checks that
/// the edit is accepted, that the result parses to the same tree except for the strings holding
/// the edited versions, and that editing back restores the original bytes. Returns how many
/// versions were edited. Text that does not parse is fine (the scan reports it).
pub fn check_edit(file_name: &str, text: &str, target: &Version) -> Result<usize, String> {
    let path = Path::new(file_name);
    let Some(kind) = FileKind::of(path) else {
        return Ok(0);
    };
    let Ok(found) = hcl::find(path, kind, text, &NoFiles) else {
        return Ok(0);
    };
    let mut splices: Vec<Splice> = Vec::new();
    for f in found.iter().filter(|f| managed(f)) {
        let (Some(site), Some(current)) = (&f.site, &f.current) else {
            continue;
        };
        if let Some(new) = edit::new_version_text(site.form, current, target) {
            splices.push(edit::splice_for(site, current, new));
        }
    }
    if splices.is_empty() {
        return Ok(0);
    }
    let new_text = edit::apply_verified(path, kind, text, &splices, &NoFiles)
        .map_err(|e| format!("edit to {target} refused: {e}\n--- text ---\n{text}"))?;

    // Only the items that can hold a source are parsed: a file may be broken elsewhere. Then
    // the edit must be exactly the splices.
    let Ok(before) = shape(text) else {
        let spliced = edit::apply(text, &splices).map_err(|e| format!("splicing: {e}"))?;
        if spliced != new_text {
            return Err(format!(
                "the edit of a file that does not parse as a whole is more than its splices\n--- before ---\n{text}\n--- after ---\n{new_text}"
            ));
        }
        return Ok(splices.len());
    };
    // The same tree, except for strings holding an edited version.
    let after = shape(&new_text).map_err(|e| format!("edited text does not parse: {e}"))?;
    if before.len() != after.len() {
        return Err(format!(
            "the tree changed size: {} nodes before, {} after\n--- before ---\n{text}\n--- after ---\n{new_text}",
            before.len(),
            after.len()
        ));
    }
    let mut changed = 0;
    for (b, a) in before.iter().zip(&after) {
        if b == a {
            continue;
        }
        match (b, a) {
            (Token::Text(_), Token::Text(new)) if splices.iter().any(|s| new.contains(&s.new)) => {
                changed += 1;
            }
            _ => {
                return Err(format!(
                    "{b:?} became {a:?}\n--- before ---\n{text}\n--- after ---\n{new_text}"
                ));
            }
        }
    }
    if changed > splices.len() {
        return Err(format!(
            "{changed} strings changed for {} edits",
            splices.len()
        ));
    }

    // Editing back gives the original bytes.
    let found_after = hcl::find(path, kind, &new_text, &NoFiles)
        .map_err(|e| format!("edited text does not parse: {}", e.message))?;
    let mut back: Vec<Splice> = Vec::new();
    for (b, a) in found.iter().zip(&found_after) {
        let (Some(b_site), Some(a_site)) = (&b.site, &a.site) else {
            continue;
        };
        let Some(s) = splices.iter().find(|s| s.span == b_site.span) else {
            continue;
        };
        if !back.iter().any(|x| x.span == a_site.span) {
            back.push(Splice {
                span: a_site.span.clone(),
                old: s.new.clone(),
                new: s.old.clone(),
            });
        }
    }
    let restored = edit::apply(&new_text, &back).map_err(|e| format!("editing back: {e}"))?;
    if restored != text {
        return Err(format!(
            "editing back does not restore the file\n--- original ---\n{text}\n--- restored ---\n{restored}"
        ));
    }
    Ok(splices.len())
}

/// Evaluating any file is bounded: `hcl::find` either finds its usages or reports the file as
/// "interpolation too large", within `MAX_WORK` plus `WORK_PER_BYTE` per byte of work (and the
/// last step that crossed it), without panicking; every version it reports is no larger than the
/// value limit.
pub fn check_bounded(file_name: &str, text: &str) -> Result<(), String> {
    let path = Path::new(file_name);
    let Some(kind) = FileKind::of(path) else {
        return Ok(());
    };
    let (result, work) = hcl::find_measured(path, kind, text, &NoFiles);
    let limit = eval::MAX_WORK + eval::WORK_PER_BYTE * text.len() as u64;
    // One step may cross the limit before it is refused: at most two values' weight.
    let slack = 2 * eval::MAX_VALUE as u64;
    if work > limit + slack {
        return Err(format!(
            "{work} steps of evaluation for {} bytes (limit {limit})\n{text}",
            text.len()
        ));
    }
    match result {
        Ok(found) => {
            for f in found {
                let size = f.current.as_ref().map_or(0, String::len);
                if size > eval::MAX_VALUE {
                    return Err(format!("a version of {size} bytes\n{text}"));
                }
            }
            Ok(())
        }
        Err(e) if e.kind == hcl::ProblemKind::TooLarge => {
            if e.message.starts_with("interpolation too large") {
                Ok(())
            } else {
                Err(format!("unexpected message {:?}", e.message))
            }
        }
        Err(_) => Ok(()),
    }
}

/// `Spec::parse` and `validate` never panic; a spec that validates has version targets, IDs
/// without spaces or control characters and usage paths that stay inside, and survives a JSON
/// round trip.
pub fn check_spec(text: &str, working_dir: &Path) -> Result<(), String> {
    let Ok(spec) = Spec::parse(text) else {
        return Ok(());
    };
    if spec.validate(working_dir).is_err() {
        return Ok(());
    }
    for d in &spec.dependencies {
        if d.id.trim().is_empty() || d.id.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(format!("accepted the ID {:?}", d.id));
        }
        for t in [&d.target_safe_version, &d.target_breaking_version]
            .into_iter()
            .flatten()
        {
            if baton::version::parse_version(t).is_none() {
                return Err(format!("accepted the target {t:?}"));
            }
        }
        for u in &d.usages {
            let p = Path::new(&u.file);
            if p.is_absolute()
                || p.components().any(|c| {
                    !matches!(
                        c,
                        std::path::Component::Normal(_) | std::path::Component::CurDir
                    )
                })
            {
                return Err(format!("accepted the usage path {:?}", u.file));
            }
        }
    }
    let again = Spec::parse(&spec.to_json()).map_err(|e| format!("round trip: {e}"))?;
    if again != spec {
        return Err("the spec changed in a JSON round trip".into());
    }
    Ok(())
}
