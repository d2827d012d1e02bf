//! The EDN reader on Jepsen-style input: atoms, collections, tags, both history layouts,
//! errors with line numbers.

use faultline_checkers::edn::*;

#[test]
fn reads_a_jepsen_op_map() {
    let op = parse_one(r#"{:type :ok, :f :txn, :value [[:append 1 2] [:r 1 [1 2]]], :process 3}"#)
        .unwrap();
    assert_eq!(op.get("type").and_then(Edn::as_keyword), Some("ok"));
    assert_eq!(op.get("process").and_then(Edn::as_int), Some(3));
    let value = op.get("value").and_then(Edn::as_seq).unwrap();
    assert_eq!(value.len(), 2);
    assert_eq!(
        value[1].as_seq().unwrap()[2],
        Edn::Vector(vec![Edn::Int(1), Edn::Int(2)])
    );
    assert!(op.get("time").is_none());
}

#[test]
fn atoms_strings_sets_and_tags() {
    let forms = parse_all(
        "nil true false -7 12N 1.5 2.5M \"a\\\"b\\n\\u0041\" \\c \\newline :k/x sym #{1 2} \
         #_ :dropped #inst \"2020\" #jepsen.history.Op{:index 1} (1 ;c\n 2)",
    )
    .unwrap();
    let vals: Vec<Edn> = forms.into_iter().map(|(_, f)| f).collect();
    assert_eq!(
        vals,
        vec![
            Edn::Nil,
            Edn::Bool(true),
            Edn::Bool(false),
            Edn::Int(-7),
            Edn::Int(12),
            Edn::Float(1.5),
            Edn::Float(2.5),
            Edn::Str("a\"b\nA".into()),
            Edn::Str("c".into()),
            Edn::Str("\n".into()),
            Edn::Keyword("k/x".into()),
            Edn::Symbol("sym".into()),
            Edn::Set(vec![Edn::Int(1), Edn::Int(2)]),
            Edn::Str("2020".into()),
            Edn::Map(vec![(Edn::Keyword("index".into()), Edn::Int(1))]),
            Edn::List(vec![Edn::Int(1), Edn::Int(2)]),
        ]
    );
}

#[test]
fn history_forms_handles_both_layouts_with_lines() {
    let per_line = "; a history\n{:type :invoke, :f :txn}\n\n{:type :ok, :f :txn}\n";
    let lines: Vec<usize> = history_forms(per_line)
        .unwrap()
        .iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(lines, vec![2, 4]);
    let vector = "[{:type :invoke}\n {:type :ok}\n {:type :fail}]\n";
    let forms = history_forms(vector).unwrap();
    assert_eq!(forms.iter().map(|f| f.0).collect::<Vec<_>>(), vec![1, 2, 3]);
    assert_eq!(
        forms[2].1.get("type").and_then(Edn::as_keyword),
        Some("fail")
    );
}

#[test]
fn errors_carry_line_numbers() {
    let e = parse_all("{:a 1}\n{:b [1 2}\n").unwrap_err();
    assert_eq!(e.line, 2, "{e}");
    let e = parse_all("{:a 1}\n\n{:b \"open").unwrap_err();
    assert_eq!(e.line, 3);
    let e = parse_one("{:a}").unwrap_err();
    assert!(e.message.contains("odd"), "{e}");
    assert!(parse_one("1 2").is_err());
    assert!(parse_all("#\"re\"").is_err());
}

#[test]
fn display_round_trips() {
    let text = r#"{:type :ok, :value [[:r 1 nil] #{2} (3) "s" 1.5 true]}"#;
    let v = parse_one(text).unwrap();
    assert_eq!(parse_one(&v.to_string()).unwrap(), v);
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    // Found by fuzzing: 300,000 nested vectors overflowed the stack.
    let deep = "[".repeat(300_000);
    let e = parse_all(&deep).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
    let e = history_forms(&format!("{{:type :ok, :value {deep}}}")).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
    let e = parse_all(&"#_ ".repeat(100_000)).unwrap_err();
    assert!(e.message.contains("nested deeper"), "{e}");
    // Jepsen's own nesting is far below the bound.
    let ok = format!(
        "{}1{}",
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    assert!(parse_all(&ok).is_ok());
}
