//! One rewrite of the ONNX graph before ONNX Runtime sees it: the token
//! embedding table stays int8.
//!
//! The int8 model stores each weight as int8 values, a `Cast` to float and a
//! `Mul` by per-row scales. ONNX Runtime's constant folding turns every such
//! weight into f32 at load — for the matrices that is what keeps inference
//! fast (without the folding it was 40% slower), but the token embedding
//! table is only ever indexed by a `Gather`, 30,522 rows of which a batch
//! reads a few hundred: folded, it is 47 MB of f32 (half of the model's
//! memory). Rewritten as gather-then-dequantise (`Gather` the int8 rows and
//! their scales, then `Cast` and `Mul`), the table stays 11.7 MB of int8 and
//! each batch dequantises only its own rows: the same operations on the same
//! numbers, so the same vectors, and 35 MB less per process (measured with
//! `examples/session_memory.rs`: 134 → 100 MB with two sessions).
//!
//! ONNX files are protocol buffers; this reads and writes just the fields it
//! needs (graph, nodes, initializers' names, types and shapes) and copies
//! every other byte through untouched.

use std::collections::HashMap;

/// The model with every `Gather` over a dequantised int8 table rewritten to
/// gather first, or `None` when no such table is found (another model).
pub fn gather_before_dequantize(model: &[u8]) -> Option<Vec<u8>> {
    let model_fields = fields(model)?;
    let graph_field = model_fields.iter().find(|f| f.number == 7)?;
    let graph = graph_field.payload?;
    let new_graph = rewrite_graph(graph)?;
    let mut out = Vec::with_capacity(model.len());
    for field in &model_fields {
        if field.number == 7 {
            put_len(&mut out, 7, &new_graph);
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    Some(out)
}

/// One field of a message: its number, the whole encoded field, and the
/// payload of a length-delimited one.
struct Field<'a> {
    number: u64,
    raw: &'a [u8],
    payload: Option<&'a [u8]>,
}

fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*pos)?;
        *pos += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn fields(buf: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let tag = varint(buf, &mut pos)?;
        let payload = match tag & 7 {
            0 => {
                varint(buf, &mut pos)?;
                None
            }
            1 => {
                pos += 8;
                None
            }
            2 => {
                let len = usize::try_from(varint(buf, &mut pos)?).ok()?;
                let payload = buf.get(pos..pos.checked_add(len)?)?;
                pos += len;
                Some(payload)
            }
            5 => {
                pos += 4;
                None
            }
            _ => return None,
        };
        out.push(Field {
            number: tag >> 3,
            raw: buf.get(start..pos)?,
            payload,
        });
    }
    Some(out)
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn put_len(out: &mut Vec<u8>, number: u64, payload: &[u8]) {
    put_varint(out, (number << 3) | 2);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// The value of a varint field.
fn varint_value(field: &Field<'_>) -> Option<u64> {
    let mut pos = 0;
    varint(field.raw, &mut pos)?;
    varint(field.raw, &mut pos)
}

fn string(field: &Field<'_>) -> Option<String> {
    String::from_utf8(field.payload?.to_vec()).ok()
}

/// The parts of a `NodeProto` the rewrite reads.
struct Node<'a> {
    raw: &'a [u8],
    op_type: String,
    inputs: Vec<String>,
    outputs: Vec<String>,
    /// Integer attributes (`axis`, `to`).
    ints: HashMap<String, i64>,
}

fn node(payload: &[u8]) -> Option<Node<'_>> {
    let mut node = Node {
        raw: payload,
        op_type: String::new(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        ints: HashMap::new(),
    };
    for field in fields(payload)? {
        match field.number {
            1 => node.inputs.push(string(&field)?),
            2 => node.outputs.push(string(&field)?),
            4 => node.op_type = string(&field)?,
            5 => {
                let (mut name, mut value) = (None, None);
                for attr in fields(field.payload?)? {
                    match attr.number {
                        1 => name = string(&attr),
                        3 => value = varint_value(&attr).map(|v| v as i64),
                        _ => {}
                    }
                }
                if let (Some(name), Some(value)) = (name, value) {
                    node.ints.insert(name, value);
                }
            }
            _ => {}
        }
    }
    Some(node)
}

/// An initializer's element type and shape.
struct Tensor {
    data_type: i64,
    dims: Vec<i64>,
}

const FLOAT: i64 = 1;
const UINT8: i64 = 2;
const INT8: i64 = 3;

fn tensor(payload: &[u8]) -> Option<(String, Tensor)> {
    let mut name = None;
    let mut t = Tensor {
        data_type: 0,
        dims: Vec::new(),
    };
    for field in fields(payload)? {
        match (field.number, field.payload) {
            // Packed dims.
            (1, Some(packed)) => {
                let mut pos = 0;
                while pos < packed.len() {
                    t.dims.push(varint(packed, &mut pos)? as i64);
                }
            }
            (1, None) => t.dims.push(varint_value(&field)? as i64),
            (2, None) => t.data_type = varint_value(&field)? as i64,
            (8, Some(_)) => name = string(&field),
            _ => {}
        }
    }
    Some((name?, t))
}

fn encode_node(
    op_type: &str,
    name: &str,
    inputs: &[&str],
    outputs: &[&str],
    int: (&str, i64),
) -> Vec<u8> {
    let mut out = Vec::new();
    for input in inputs {
        put_len(&mut out, 1, input.as_bytes());
    }
    for output in outputs {
        put_len(&mut out, 2, output.as_bytes());
    }
    put_len(&mut out, 3, name.as_bytes());
    put_len(&mut out, 4, op_type.as_bytes());
    let mut attr = Vec::new();
    put_len(&mut attr, 1, int.0.as_bytes());
    put_varint(&mut attr, 3 << 3);
    put_varint(&mut attr, int.1 as u64);
    // AttributeProto.type = INT.
    put_varint(&mut attr, 20 << 3);
    put_varint(&mut attr, 2);
    put_len(&mut out, 5, &attr);
    out
}

fn rewrite_graph(graph: &[u8]) -> Option<Vec<u8>> {
    let graph_fields = fields(graph)?;
    let mut nodes = Vec::new();
    let mut initializers = HashMap::new();
    let mut graph_outputs = Vec::new();
    for field in &graph_fields {
        match field.number {
            1 => nodes.push(node(field.payload?)?),
            5 => {
                let (name, t) = tensor(field.payload?)?;
                initializers.insert(name, t);
            }
            12 => {
                // ValueInfoProto.name
                let info = fields(field.payload?)?;
                if let Some(name) = info.iter().find(|f| f.number == 1) {
                    graph_outputs.push(string(name)?);
                }
            }
            _ => {}
        }
    }
    let producer: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .flat_map(|(i, n)| n.outputs.iter().map(move |o| (o.as_str(), i)))
        .collect();
    let uses = |name: &str| {
        nodes
            .iter()
            .filter(|n| n.inputs.iter().any(|i| i == name))
            .count()
            + usize::from(graph_outputs.iter().any(|o| o == name))
    };
    // Gather index → (the int8 table, its scales); Cast and Mul to drop.
    let mut rewrites: HashMap<usize, (String, String)> = HashMap::new();
    let mut dropped = Vec::new();
    for (g, gather) in nodes.iter().enumerate() {
        if gather.op_type != "Gather" || gather.ints.get("axis").copied().unwrap_or(0) != 0 {
            continue;
        }
        let Some(table) = gather.inputs.first() else {
            continue;
        };
        let Some(&m) = producer.get(table.as_str()) else {
            continue;
        };
        let mul = &nodes[m];
        if mul.op_type != "Mul" || mul.inputs.len() != 2 || uses(table) != 1 {
            continue;
        }
        let found = [(0, 1), (1, 0)].into_iter().find_map(|(a, b)| {
            let scales = initializers.get(&mul.inputs[b])?;
            let rows = scales.dims.first().copied()?;
            let per_row = scales.data_type == FLOAT
                && scales.dims.len() == 2
                && scales.dims[1] == 1
                && rows > 0;
            let &c = producer.get(mul.inputs[a].as_str())?;
            let cast = &nodes[c];
            let quantized = initializers.get(cast.inputs.first()?)?;
            (per_row
                && cast.op_type == "Cast"
                && cast.ints.get("to") == Some(&FLOAT)
                && matches!(quantized.data_type, INT8 | UINT8)
                && quantized.dims.first() == Some(&rows)
                && uses(&mul.inputs[a]) == 1)
                .then(|| (c, cast.inputs[0].clone(), mul.inputs[b].clone()))
        });
        if let Some((c, quantized, scales)) = found {
            rewrites.insert(g, (quantized, scales));
            dropped.extend([c, m]);
        }
    }
    if rewrites.is_empty() {
        return None;
    }
    let mut new_nodes: Vec<Vec<u8>> = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        if dropped.contains(&i) {
            continue;
        }
        let Some((quantized, scales)) = rewrites.get(&i) else {
            new_nodes.push(n.raw.to_vec());
            continue;
        };
        let ids = n.inputs.get(1)?.as_str();
        let out = n.outputs.first()?.as_str();
        let (q, s, f) = (
            format!("{out}/rows_q"),
            format!("{out}/rows_scale"),
            format!("{out}/rows_f"),
        );
        new_nodes.push(encode_node(
            "Gather",
            &q,
            &[quantized, ids],
            &[&q],
            ("axis", 0),
        ));
        new_nodes.push(encode_node(
            "Gather",
            &s,
            &[scales, ids],
            &[&s],
            ("axis", 0),
        ));
        new_nodes.push(encode_node("Cast", &f, &[&q], &[&f], ("to", FLOAT)));
        let mut mul = Vec::new();
        for input in [&f, &s] {
            put_len(&mut mul, 1, input.as_bytes());
        }
        put_len(&mut mul, 2, out.as_bytes());
        put_len(&mut mul, 3, format!("{out}/rows_mul").as_bytes());
        put_len(&mut mul, 4, b"Mul");
        new_nodes.push(mul);
    }
    let mut out = Vec::with_capacity(graph.len());
    let mut nodes_written = false;
    for field in &graph_fields {
        if field.number == 1 {
            if !nodes_written {
                for n in &new_nodes {
                    put_len(&mut out, 1, n);
                }
                nodes_written = true;
            }
        } else {
            out.extend_from_slice(field.raw);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn initializer(name: &str, data_type: i64, dims: &[i64]) -> Vec<u8> {
        let mut t = Vec::new();
        for d in dims {
            put_varint(&mut t, 1 << 3);
            put_varint(&mut t, *d as u64);
        }
        put_varint(&mut t, 2 << 3);
        put_varint(&mut t, data_type as u64);
        put_len(&mut t, 8, name.as_bytes());
        t
    }

    fn model(gather_table: &str) -> Vec<u8> {
        let mut graph = Vec::new();
        put_len(
            &mut graph,
            1,
            &encode_node("Cast", "cast", &["w_q"], &["w_f"], ("to", FLOAT)),
        );
        let mut mul = Vec::new();
        for i in ["w_f", "w_scale"] {
            put_len(&mut mul, 1, i.as_bytes());
        }
        put_len(&mut mul, 2, b"w");
        put_len(&mut mul, 4, b"Mul");
        put_len(&mut graph, 1, &mul);
        put_len(&mut graph, 2, b"g");
        put_len(
            &mut graph,
            1,
            &encode_node(
                "Gather",
                "gather",
                &[gather_table, "ids"],
                &["emb"],
                ("axis", 0),
            ),
        );
        put_len(&mut graph, 5, &initializer("w_q", INT8, &[10, 4]));
        put_len(&mut graph, 5, &initializer("w_scale", FLOAT, &[10, 1]));
        let mut model = Vec::new();
        put_varint(&mut model, 1 << 3);
        put_varint(&mut model, 10);
        put_len(&mut model, 7, &graph);
        model
    }

    fn ops(model: &[u8]) -> Vec<(String, Vec<String>, Vec<String>)> {
        let graph = fields(model)
            .unwrap()
            .into_iter()
            .find(|f| f.number == 7)
            .unwrap();
        fields(graph.payload.unwrap())
            .unwrap()
            .iter()
            .filter(|f| f.number == 1)
            .map(|f| {
                let n = node(f.payload.unwrap()).unwrap();
                (n.op_type, n.inputs, n.outputs)
            })
            .collect()
    }

    #[test]
    fn a_gather_over_a_dequantised_table_gathers_first() {
        let rewritten = gather_before_dequantize(&model("w")).expect("the pattern is found");
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            ops(&rewritten),
            vec![
                ("Gather".into(), s(&["w_q", "ids"]), s(&["emb/rows_q"])),
                (
                    "Gather".into(),
                    s(&["w_scale", "ids"]),
                    s(&["emb/rows_scale"])
                ),
                ("Cast".into(), s(&["emb/rows_q"]), s(&["emb/rows_f"])),
                (
                    "Mul".into(),
                    s(&["emb/rows_f", "emb/rows_scale"]),
                    s(&["emb"])
                ),
            ]
        );
        // Everything else came through: the graph's name and initializers.
        let kept = |m: &[u8]| {
            fields(fields(m).unwrap()[1].payload.unwrap())
                .unwrap()
                .iter()
                .filter(|f| f.number != 1)
                .map(|f| f.raw.to_vec())
                .collect::<Vec<_>>()
        };
        assert_eq!(kept(&rewritten), kept(&model("w")));
        assert!(
            gather_before_dequantize(&rewritten).is_none(),
            "nothing left to rewrite"
        );
    }

    #[test]
    fn a_graph_without_the_pattern_is_left_alone() {
        // The Gather reads another tensor: nothing to rewrite.
        assert!(gather_before_dequantize(&model("other")).is_none());
        assert!(gather_before_dequantize(b"\xff\xff not a model").is_none());
    }
}
