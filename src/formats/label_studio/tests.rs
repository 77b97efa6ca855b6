use super::*;

fn parse_with(s: &str, diag: &mut Diagnostics) -> Result<Vec<Document>> {
    parse(s, &Location::file("ls.json"), &Options::default(), diag)
}

fn parse_str(s: &str) -> Result<Vec<Document>> {
    parse_with(s, &mut Diagnostics::default())
}

fn err(s: &str) -> String {
    parse_str(s).unwrap_err().to_string()
}

/// One task whose annotation result is `result` (a JSON list, as text).
fn with_result(result: &str) -> String {
    format!(
        r#"[{{"id": 7, "data": {{"text": "Putin called Pezeshkian of Iran’s government."}},
          "annotations": [{{"id": 1, "result": {result}}}]}}]"#
    )
}

fn region(id: &str, start: usize, end: usize, text: &str, label: &str) -> String {
    format!(
        r#"{{"id": "{id}", "from_name": "label", "to_name": "text", "type": "labels",
            "value": {{"start": {start}, "end": {end}, "text": "{text}", "labels": ["{label}"]}}}}"#
    )
}

fn good() -> String {
    let p = region("abc", 0, 5, "Putin", "PER");
    let z = region("def", 13, 23, "Pezeshkian", "PER");
    let i = region("ghi", 27, 31, "Iran", "LOC");
    format!(
        r#"[{{"id": 7, "created_at": "2024-07-01", "project": 3,
             "data": {{"text": "Putin called Pezeshkian of Iran’s government.", "source": "tass"}},
             "annotations": [
               {{"id": 40, "was_cancelled": true, "result": []}},
               {{"id": 41, "result": [{p}, {z}, {i},
                 {{"type": "relation", "from_id": "abc", "to_id": "def", "direction": "right", "labels": ["phone call"]}},
                 {{"type": "relation", "from_id": "ghi", "to_id": "def", "direction": "left", "labels": ["citizen of", "leads"]}}]}}]}},
           {{"data": {{"text": "Tehran"}}, "predictions": [{{"model_version": "v2", "score": 0.8,
             "result": [{{"id": "r1", "type": "labels", "value": {{"start": 0, "end": 6, "labels": ["LOC"]}}}}]}}]}}]"#
    )
}

#[track_caller]
fn has(msg: &str, part: &str) {
    assert!(msg.contains(part), "{msg:?} lacks {part:?}");
}

fn pairs(d: &Document) -> Vec<(&str, &str, &str)> {
    let r = d.relations.iter();
    r.map(|r| (r.head.as_str(), r.tail.as_str(), r.label.as_str()))
        .collect()
}

#[test]
fn reads_regions_relations_and_predictions() {
    let mut diag = Diagnostics::default();
    let docs = parse_with(&good(), &mut diag).unwrap();
    assert!(diag.is_empty(), "{:?}", diag.warnings);
    let d = &docs[0];
    assert_eq!(d.id, "7");
    let ids: Vec<_> = d.entities.iter().map(|e| (&*e.id, &*e.text)).collect();
    assert_eq!(
        ids,
        [("abc", "Putin"), ("def", "Pezeshkian"), ("ghi", "Iran")]
    );
    // "left" swaps; two labels make two relations.
    let (call, cit, lead) = (
        ("abc", "def", "phone call"),
        ("def", "ghi", "citizen of"),
        ("def", "ghi", "leads"),
    );
    assert_eq!(pairs(d), [call, cit, lead]);
    assert_eq!(d.meta["source"], "tass");
    let bookkeeping = json!({"created_at": "2024-07-01", "project": 3});
    assert_eq!(d.meta["label_studio"], bookkeeping);
    assert!(d.problems().is_empty());
    let t = &docs[1];
    assert_eq!((&*t.id, &*t.entities[0].text), ("2", "Tehran"));
    assert_eq!(t.entities[0].score, Some(0.8));
    assert_eq!(t.meta["label_studio"]["used_prediction"], "v2");
}

#[test]
fn round_trip() {
    let docs = parse_str(&good()).unwrap();
    let mut diag = Diagnostics::default();
    let out = write(&docs, &Options::default(), &mut diag).unwrap();
    assert!(diag.is_empty());
    let tasks: Value = serde_json::from_str(&out).unwrap();
    let result = &tasks[0]["annotations"][0]["result"];
    assert_eq!(
        (&result[0]["from_name"], &result[0]["to_name"]),
        (&json!("label"), &json!("text"))
    );
    assert_eq!(result[4]["labels"], json!(["citizen of", "leads"]));
    let data = json!({"text": docs[0].text, "source": "tass"});
    assert_eq!(tasks[0]["data"], data);
    // Bookkeeping is Label Studio's own and is not written back.
    let strip = |mut docs: Vec<Document>| {
        docs.iter_mut()
            .for_each(|d| drop(d.meta.remove("label_studio")));
        docs
    };
    assert_eq!(strip(parse_str(&out).unwrap()), strip(docs));
}

#[test]
fn text_under_another_key_goes_back_there() {
    let input = r#"[{"id": 1, "data": {"story": "Kyiv", "lang": "en"},
        "annotations": [{"result": [{"id": "k", "type": "labels", "value": {"start": 0, "end": 4, "labels": ["LOC"]}}]}]}]"#;
    let mut diag = Diagnostics::default();
    let docs = parse_with(input, &mut diag).unwrap();
    assert_eq!(docs[0].text, "Kyiv");
    assert_eq!(docs[0].meta[TEXT_KEY], "story");
    has(
        &diag.warnings[0].message,
        "used \"story\" of [\"story\", \"lang\"]",
    );
    let out = write(&docs, &Options::default(), &mut Diagnostics::default()).unwrap();
    let tasks: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(tasks[0]["data"], json!({"story": "Kyiv", "lang": "en"}));
    assert!(parse_with(input, &mut Diagnostics::new(true)).is_err());
}

#[test]
fn what_cannot_be_held_is_warned_about() {
    let p = region("abc", 0, 5, "Putin", "PER");
    let result = format!(
        r#"[{p},
          {{"id": "nol", "type": "labels", "value": {{"start": 13, "end": 23, "labels": []}}}},
          {{"id": "two", "type": "labels", "value": {{"start": 27, "end": 31, "labels": ["LOC", "GPE"]}}}},
          {{"type": "relation", "from_id": "abc", "to_id": "two", "direction": "bi", "labels": ["met"]}},
          {{"type": "relation", "from_id": "abc", "to_id": "two"}},
          {{"type": "relation", "from_id": "abc", "to_id": "nol", "labels": ["called"]}},
          {{"id": "c", "type": "choices", "value": {{"choices": ["politics"]}}}}]"#
    );
    let input = format!(
        r#"[{{"id": 7, "data": {{"text": "Putin called Pezeshkian of Iran’s government."}},
             "annotations": [{{"id": 1, "was_cancelled": false, "result": {result}}},
                             {{"id": 2, "result": []}}]}}]"#
    );
    let mut diag = Diagnostics::default();
    let docs = parse_with(&input, &mut diag).unwrap();
    let d = &docs[0];
    assert_eq!((d.entities.len(), &*d.entities[1].label), (2, "LOC"));
    assert_eq!(pairs(d), [("abc", "two", "met")]);
    let msgs: Vec<_> = diag.warnings.iter().map(|w| w.to_string()).collect();
    let expect = [
        "task has 2 annotations; only the first (id 1) was used",
        "region 'nol' \"Pezeshkian\" has no label; dropped",
        "region 'two' has labels [\"LOC\", \"GPE\"]; kept only \"LOC\"",
        "relation [\"met\"] abc <-> two is bidirectional; kept as abc -> two",
        "relation abc -> two has no label; dropped",
        "relation [\"called\"] abc -> nol dropped with region 'nol'",
        "ignored 1 results ertag cannot hold (choices x1)",
    ];
    assert_eq!(msgs.len(), expect.len(), "{msgs:?}");
    for (m, e) in msgs.iter().zip(expect) {
        assert_eq!(*m, format!("ls.json document '7': {e}"));
    }
}

#[test]
fn malformed_input_is_an_error() {
    let msg = err("[\n{\"data\": {\"text\": \"a\"}},\n{\"data\": }\n]");
    has(&msg, "ls.json:line 3: malformed Label Studio JSON");
    has(&err("\"x\""), "expected a JSON array of tasks");
    let msg = err(r#"[{"id": 3, "text": "no data"}]"#);
    has(&msg, "ls.json document '3': task 1: no \"data\" object");
    has(
        &err(r#"[{"id": 3, "data": {"n": 1}}]"#),
        "\"data\" has no text",
    );
    let msg = err(r#"[{"id": 3, "data": {"text": "a"}, "annotations": {}}]"#);
    has(&msg, "task 1: \"annotations\" must be a list");
}

#[test]
fn bad_regions_are_errors() {
    let one = |r: String| err(&with_result(&format!("[{r}]")));
    let msg = one(region("a", 40, 60, "x", "PER"));
    has(
        &msg,
        "ls.json document '7': task 1: region 'a' [40, 60) is outside the text",
    );
    let msg = one(region("a", 0, 5, "Putim", "PER"));
    has(
        &msg,
        "region 'a' has text \"Putim\" but its offsets [0, 5) cover \"Putin\"",
    );
    let twice = format!(
        "{}, {}",
        region("a", 0, 5, "Putin", "PER"),
        region("a", 27, 31, "Iran", "LOC")
    );
    has(&one(twice), "region id 'a' is used twice");
    let msg = one(r#"{"id": "a", "type": "labels", "value": {"start": "0", "end": 5}}"#.into());
    has(
        &msg,
        "result 0 (region 'a') needs numeric value.start and value.end",
    );
}

#[test]
fn bad_relations_are_errors() {
    let p = region("abc", 0, 5, "Putin", "PER");
    let with = |r: &str| {
        err(&with_result(&format!(
            r#"[{p}, {{"type": "relation", {r}}}]"#
        )))
    };
    let msg = with(r#""from_id": "abc", "to_id": "zzz", "labels": ["x"]"#);
    has(
        &msg,
        "ls.json document '7': task 1: relation [\"x\"] points at region 'zzz'",
    );
    let msg = with(r#""from_id": "abc", "to_id": "abc", "direction": "up", "labels": ["x"]"#);
    has(&msg, "relation abc -> abc has direction \"up\"");
    has(
        &with(r#""from_id": "abc", "labels": ["x"]"#),
        "result 1 (relation) needs from_id and to_id",
    );
}

#[test]
fn write_refuses_dangling_relations() {
    let mut d = Document::new("x-1", "Putin");
    d.add_entity(0, 5, "PER").unwrap();
    let (head, tail, label) = ("T1".into(), "T9".into(), "met".into());
    let (score, evidence) = (None, None);
    d.relations.push(Relation {
        head,
        tail,
        label,
        score,
        evidence,
    });
    let msg = write(&[d], &Options::default(), &mut Diagnostics::default());
    has(
        &msg.unwrap_err().to_string(),
        "document 'x-1': relation 'met' T1 -> T9",
    );
}
