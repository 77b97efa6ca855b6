//! Command-line interface: argument definitions (clap derive) and dispatch to the library.
//! `main.rs` only calls [`main`]; every command's logic lives in [`crate::commands`].

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::commands;
use crate::error::Diagnostics;
use crate::formats::{ConllOptions, Format, Options};
use crate::relations::train::Keep;
use crate::tags::TagScheme;

#[derive(Debug, Parser)]
#[command(
    name = "ertag",
    version,
    about = "Entity and relation tagger for news",
    long_about = "Entity and relation tagger for news: a transformer NER model, a relation \
                  classifier over entity pairs, and an evaluation harness.\n\n\
                  Offsets everywhere are Unicode code-point offsets, end-exclusive.",
    after_help = "Examples:\n  ertag convert eng.testb --from conll --scheme iob1 -o test.jsonl\n  \
                  ertag segment examples/ -o segmented.jsonl\n  ertag info"
)]
pub struct Cli {
    /// Threads for the model (intra-op); default: all cores.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Annotate documents with entities and relations.
    #[command(after_help = "Example:\n  ertag annotate examples/ -o annotated.jsonl")]
    Annotate(AnnotateArgs),
    /// Score predictions against gold annotations.
    #[command(after_help = "Example:\n  ertag eval --gold gold.jsonl --pred pred.jsonl")]
    Eval(EvalArgs),
    /// Train or fine-tune a model.
    #[command(subcommand)]
    Train(TrainCommand),
    /// Convert annotated documents between formats.
    #[command(after_help = "Examples:\n  \
        ertag convert ../shared/data/conll2003/iob2/dev.txt -o dev.jsonl\n  \
        ertag convert dev.jsonl --to conll --scheme bioes -o dev.bioes\n  \
        ertag convert export.json --from label-studio --to brat -o brat_dir/\n  \
        ertag convert corpus/ --from brat -o corpus.jsonl --strict")]
    Convert(ConvertArgs),
    /// Split documents into sentences and word tokens (character offsets), as JSON Lines.
    #[command(after_help = "Example:\n  ertag segment examples/ -o segmented.jsonl")]
    Segment(SegmentArgs),
    /// Check or show a relation schema.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Show the runtime: libtorch, threads, devices.
    Info,
    /// Combine several models' annotations of the same documents (an ensemble): a mention is
    /// kept when most models find it, a relation when its mean score reaches the threshold.
    #[command(
        after_help = "Example (members run with a low threshold so the mean sees their scores):\n  \
        ertag annotate test.json --from conll04 --relation-model m1 --relation-threshold 0.05 -o m1.jsonl\n  \
        ertag annotate test.json --from conll04 --relation-model m2 --relation-threshold 0.05 -o m2.jsonl\n  \
        ertag annotate test.json --from conll04 --relation-model m3 --relation-threshold 0.05 -o m3.jsonl\n  \
        ertag vote m1.jsonl m2.jsonl m3.jsonl --schema m1/schema.toml -o test.pred.jsonl"
    )]
    Vote(VoteArgs),
}

/// Where documents come from, in which format.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Input file or directory (`-` for standard input).
    pub input: PathBuf,
    /// Input format; guessed from the path when left out.
    #[arg(long, value_enum)]
    pub from: Option<Format>,
    /// CoNLL: tag scheme of the input (or of the output when writing CoNLL).
    #[arg(long, value_enum, default_value_t = TagScheme::Iob2)]
    pub scheme: TagScheme,
    /// CoNLL: 1-based column holding the tags; default the last column.
    #[arg(long, value_name = "N")]
    pub tag_column: Option<usize>,
    /// Refuse input that would need repairing or would lose annotations, instead of warning.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output file or directory (`-` for standard output).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Output format; guessed from the output path, default jsonl.
    #[arg(long, value_enum)]
    pub to: Option<Format>,
}

#[derive(Debug, Args)]
pub struct VoteArgs {
    /// The members' annotations of the same documents, one file or directory per model (one
    /// alone is held to the threshold).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Input format; guessed from each path when left out.
    #[arg(long, value_enum)]
    pub from: Option<Format>,
    /// Output file or directory (`-` for standard output).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
    /// Output format; guessed from the output path, default jsonl.
    #[arg(long, value_enum)]
    pub to: Option<Format>,
    /// Keep a relation whose mean score over the members (0 where a member left it out) is at
    /// least this.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f32,
    /// The relation schema, for its symmetric labels (either argument order is one relation).
    #[arg(long)]
    pub schema: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SegmentArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output JSON Lines file (`-` for standard output).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct AnnotateArgs {
    /// Input files or directories (`-` for standard input).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Input format; guessed from each path when left out (a directory is plain text).
    #[arg(long, value_enum)]
    pub from: Option<Format>,
    /// Output file or directory (`-` for standard output).
    #[arg(short, long, default_value = "-")]
    pub output: PathBuf,
    /// Output format; guessed from the output path, default jsonl.
    #[arg(long, value_enum)]
    pub to: Option<Format>,
    /// CoNLL: tag scheme of CoNLL input and output.
    #[arg(long, value_enum, default_value_t = TagScheme::Iob2)]
    pub scheme: TagScheme,
    /// NER model directory (config.json, model.safetensors, tokenizer.json); default: the
    /// relation model's NER model, else the shipped models/ner.
    #[arg(long)]
    pub ner_model: Option<PathBuf>,
    /// How a word's label is read from its sub-words.
    #[arg(long, value_enum, default_value_t = crate::ner::Aggregation::First)]
    pub aggregation: crate::ner::Aggregation,
    /// How a sentence's tags are read from its words' label probabilities.
    #[arg(long, value_enum, default_value_t = crate::ner::TagDecoding::Viterbi)]
    pub decoding: crate::ner::TagDecoding,
    /// Windows per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Sub-words per window, special tokens included.
    #[arg(long, default_value_t = 128)]
    pub max_subwords: usize,
    /// Number format of the models' computation (bf16: faster on CPUs with AVX-512 BF16; the
    /// relation head computes in it too).
    #[arg(long, value_enum, default_value_t = crate::ner::Precision::Fp32)]
    pub precision: crate::ner::Precision,
    /// Relation model directory (relation.json, relation_head.safetensors, schema.toml); it
    /// names the NER model it reads. Default: the shipped models/relations when it exists.
    #[arg(long, conflicts_with = "no_relations")]
    pub relation_model: Option<PathBuf>,
    /// Entities only, even where a default relation model exists.
    #[arg(long)]
    pub no_relations: bool,
    /// Keep every relation scoring at least this (0 to 1) instead of each label's threshold
    /// stored with the model: lower for recall (a reviewer's candidate list), higher for
    /// precision.
    #[arg(long, value_name = "SCORE", conflicts_with = "no_relations", value_parser = unit_interval)]
    pub relation_threshold: Option<f32>,
    /// JSON Lines input: the field holding the document id (a missing id becomes
    /// `<file>:<line>`).
    #[arg(long, default_value = "id")]
    pub id_field: String,
    /// JSON Lines input: the field holding the text; other fields are kept in `meta`.
    #[arg(long, default_value = "text")]
    pub text_field: String,
    /// Write documents that cannot be annotated, with their reason, to FILE (JSON Lines:
    /// id, source, reason) instead of standard error.
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// Stop at the first document that cannot be annotated.
    #[arg(long)]
    pub fail_fast: bool,
    /// Skip the documents already in the output file (and errors file), append the rest.
    #[arg(long)]
    pub resume: bool,
    /// Annotate only share I of N (0-based) of the documents, chosen by a stable hash of
    /// their id: N runs with 0/N .. N-1/N together annotate everything exactly once.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::annotate::Shard>,
    /// Documents read, annotated and written at a time (memory stays constant).
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub chunk_size: usize,
}

#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// Gold annotations (any format ertag reads).
    #[arg(long)]
    pub gold: PathBuf,
    /// Predicted annotations (any format ertag reads).
    #[arg(long)]
    pub pred: PathBuf,
    /// Format of both files; each is guessed from its path (and a `.txt` from its first line)
    /// when left out.
    #[arg(long, value_enum)]
    pub from: Option<Format>,
    /// Format of the gold file (overrides --from).
    #[arg(long, value_enum)]
    pub gold_format: Option<Format>,
    /// Format of the prediction files (overrides --from).
    #[arg(long, value_enum)]
    pub pred_format: Option<Format>,
    /// CoNLL: tag scheme of the files.
    #[arg(long, value_enum, default_value_t = TagScheme::Iob2)]
    pub scheme: TagScheme,
    /// CoNLL: how tags become entities: `conlleval` (seqeval default) repairs a stray `I-X`
    /// into an entity, `strict` (seqeval mode='strict') drops chunks that break the scheme.
    #[arg(long, value_enum, default_value_t = crate::commands::eval::EvalMode::Conlleval)]
    pub mode: crate::commands::eval::EvalMode,
    /// Pair documents by position instead of id (automatic when both files are CoNLL).
    #[arg(long)]
    pub by_order: bool,
    /// Warn and count missing, extra or mismatched documents instead of failing.
    #[arg(long)]
    pub lenient: bool,
    /// Relation schema: its entity types, relation labels and symmetric labels stand for
    /// --entity-labels, --relation-labels and --symmetric (added to any given).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// The entity types allowed on both sides; any other is an error (with --lenient, a
    /// warning and a count).
    #[arg(long, value_delimiter = ',', value_name = "LABEL,...")]
    pub entity_labels: Vec<String>,
    /// The relation labels allowed on both sides, as --entity-labels.
    #[arg(long, value_delimiter = ',', value_name = "LABEL,...")]
    pub relation_labels: Vec<String>,
    /// Relation labels that hold in both directions (compared ignoring direction).
    #[arg(long, value_delimiter = ',', value_name = "LABEL,...")]
    pub symmetric: Vec<String>,
    /// Bootstrap resamples of documents for 95% intervals (0: no intervals).
    #[arg(long, value_name = "N", default_value_t = crate::eval::bootstrap::DEFAULT_RESAMPLES)]
    pub bootstrap: usize,
    /// Seed of the bootstrap and of the comparison's randomisation test.
    #[arg(long, default_value_t = crate::eval::bootstrap::DEFAULT_SEED)]
    pub seed: u64,
    /// A second prediction of the same gold: report its difference (P2 minus --pred) with a
    /// paired-bootstrap interval and an approximate-randomisation p-value.
    #[arg(long, value_name = "P2")]
    pub compare: Option<PathBuf>,
    /// Write every error (missed, spurious, wrong type or boundary) with its context to FILE
    /// (JSON Lines when FILE ends in `.jsonl`, readable text otherwise).
    #[arg(long, value_name = "FILE")]
    pub errors: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long, conflicts_with = "markdown")]
    pub json: bool,
    /// Print the report as Markdown.
    #[arg(long)]
    pub markdown: bool,
    /// Also write the report as one self-contained HTML page with charts.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum TrainCommand {
    /// Train a named-entity model.
    #[command(after_help = "Examples:\n  \
            ertag train ner --train ../shared/data/conll2003/iob2/train.txt \\\n      \
            --dev ../shared/data/conll2003/iob2/dev.txt --base .cache/backbones/minilm-l6 --out models/ner\n  \
            ertag train ner --train t.jsonl --dev d.jsonl --base minilm/ --out /tmp/ner \\\n      \
            --epochs 1 --limit-train-docs 100\n  \
            ertag train ner --train t.txt --dev d.txt --base minilm/ --out models/ner --resume")]
    Ner(TrainNerArgs),
    /// Train a relation classifier.
    #[command(after_help = "Examples:\n  \
            ertag train relations --schema eval/conll04/schema.toml --joint \\\n      \
            --train ../shared/data/conll04/spert_json/conll04_train.json \\\n      \
            --dev ../shared/data/conll04/spert_json/conll04_dev.json --base models/ner --out /tmp/conll04\n  \
            ertag train relations --schema models/relations/schema.toml --train t.jsonl --dev d.jsonl \\\n      \
            --base models/ner --out models/relations")]
    Relations(TrainRelationsArgs),
}

/// What every `ertag train` command reads and writes.
#[derive(Debug, Args)]
pub struct TrainData {
    /// Training documents (any format ertag reads); repeat it to train on several files, such
    /// as train and dev for a final model.
    #[arg(long, required = true)]
    pub train: Vec<PathBuf>,
    /// Development documents, scored after each epoch to keep the best one.
    #[arg(long)]
    pub dev: PathBuf,
    /// Backbone model directory (Hugging Face format, with tokenizer.json).
    #[arg(long)]
    pub base: PathBuf,
    /// Output directory: the best checkpoint, train_log.jsonl, and last/ for --resume.
    #[arg(long)]
    pub out: PathBuf,
    /// Format of --train and --dev; guessed from each path when left out.
    #[arg(long, value_enum)]
    pub from: Option<Format>,
}

/// `ertag train relations`.
#[derive(Debug, Args)]
pub struct TrainRelationsArgs {
    #[command(flatten)]
    pub data: TrainData,
    /// Relation schema (TOML or JSON): entity types, labels, direction, allowed type pairs.
    #[arg(long)]
    pub schema: PathBuf,
    /// Fine-tune NER and relations together on one encoder from --base (a backbone); without
    /// it, --base is a trained NER model whose encoder stays frozen and is shared.
    #[arg(long)]
    pub joint: bool,
    /// Pair entity mentions within this many sentences (1: the same sentence).
    #[arg(long, default_value_t = 1)]
    pub sentence_window: usize,
    /// Peak learning rate of the relation head (it starts from scratch).
    #[arg(long, default_value_t = 1e-3)]
    pub head_lr: f64,
    /// Leave the text between two mentions out of their pair's representation (the cheaper
    /// alternative the benchmark measures).
    #[arg(long)]
    pub no_pair_context: bool,
    /// Also max-pool the pair's whole sentence into its representation (the words that say
    /// what holds may stand before or after both mentions).
    #[arg(long)]
    pub sentence_context: bool,
    /// Which epoch's model to keep: the best on dev, or the last (for a final model trained on
    /// train and dev, with --thresholds-from).
    #[arg(long, value_enum, default_value_t = Keep::Best)]
    pub keep: Keep,
    /// Copy the per-label thresholds of this relation model (same labels) instead of tuning
    /// them on dev.
    #[arg(long, value_name = "DIR")]
    pub thresholds_from: Option<PathBuf>,
    /// Loss weight of a positive (pair, label): above 1 favours recall (most pairs hold none).
    #[arg(long, default_value_t = 1.0)]
    pub positive_weight: f64,
    /// Add N copies of each training document in which every entity mention is replaced by
    /// another training mention of its type (mention replacement), so that the model learns
    /// from the words around a pair rather than from the names in it.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub mention_swaps: usize,
    /// Give the head trainable copies of the encoder's top N layers (it reads the layer below
    /// them). Without --joint, NER stays as it is; with --joint, NER and relations share the
    /// lower layers and each has its top N to itself. Relations cost N layers more on the
    /// windows with candidate pairs.
    #[arg(long, default_value_t = 0)]
    pub encoder_layers: usize,
    /// Run the head's own encoder layers (--encoder-layers) once per candidate pair, the two
    /// mentions marked, so that attention knows which pair it is asked about: more accurate
    /// relations, at the cost of those layers per pair rather than per window.
    #[arg(long, requires = "encoder_layers")]
    pub pair_markers: bool,
    /// CoNLL: tag scheme of the input files.
    #[arg(long, value_enum, default_value_t = TagScheme::Iob2)]
    pub scheme: TagScheme,
    #[command(flatten)]
    pub run: TrainRun,
}

/// `ertag train ner`: data, backbone, output, and the hyper-parameters worth changing.
#[derive(Debug, Args)]
pub struct TrainNerArgs {
    #[command(flatten)]
    pub data: TrainData,
    /// CoNLL: tag scheme of the input files (the model always tags in IOB2).
    #[arg(long, value_enum, default_value_t = TagScheme::Iob2)]
    pub scheme: TagScheme,
    /// Do not give the model each word's casing class as its token type.
    #[arg(long)]
    pub no_casing: bool,
    /// Do not fill windows with neighbouring sentences.
    #[arg(long)]
    pub no_context: bool,
    #[command(flatten)]
    pub run: TrainRun,
}

/// How long and how fast every `ertag train` command trains, and how it reports.
#[derive(Debug, Args)]
pub struct TrainRun {
    #[arg(long, default_value_t = 4)]
    pub epochs: usize,
    /// Peak learning rate (linear warm-up over 10% of the steps, then linear decay).
    #[arg(long, default_value_t = 5e-5)]
    pub lr: f64,
    #[arg(long, default_value_t = 16)]
    pub batch_size: usize,
    /// Seed of the weight initialisation, dropout and data order.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Sub-words per window, special tokens included.
    #[arg(long, default_value_t = 128)]
    pub max_subwords: usize,
    /// Train on the first N documents only (quick tests).
    #[arg(long, value_name = "N")]
    pub limit_train_docs: Option<usize>,
    /// Continue from OUT/last/ at the next epoch, with the same schedule and data order (AdamW's
    /// moment estimates cannot be saved, so they restart from zero).
    #[arg(long)]
    pub resume: bool,
    /// Save the checkpoint in fp32 (default fp16, half the size).
    #[arg(long)]
    pub fp32: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Validate a schema file and explain its mistakes.
    #[command(after_help = "Example:\n  ertag schema check models/relations/schema.toml")]
    Check { file: PathBuf },
    /// Print a schema in readable form.
    #[command(after_help = "Example:\n  ertag schema show models/relations/schema.toml")]
    Show { file: PathBuf },
}

impl InputArgs {
    pub fn format(&self) -> crate::Result<Format> {
        crate::formats::guess_format(&self.input, self.from)
    }

    pub fn options(&self) -> Options {
        Options {
            conll: ConllOptions {
                tag_column: self.tag_column.map(|c| c.saturating_sub(1)),
                scheme: self.scheme,
                ..Default::default()
            },
        }
    }
}

/// Parse the command line, run the command, print errors and warnings, and give the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(n) = cli.threads {
        tch::set_num_threads(n as i32);
    }
    let mut diag = Diagnostics::default();
    let result = run(cli.command, &mut diag);
    commands::print_warnings(&diag);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

pub fn run(command: Command, diag: &mut Diagnostics) -> crate::Result<()> {
    match command {
        Command::Convert(args) => commands::convert::run(&args, diag),
        Command::Segment(args) => commands::segment::run(&args, diag),
        Command::Info => {
            commands::info::print();
            Ok(())
        }
        Command::Annotate(args) => commands::annotate::run(&args, diag),
        Command::Eval(args) => commands::eval::run(&args, diag),
        Command::Vote(args) => commands::vote::run(&args, diag),
        Command::Train(TrainCommand::Ner(args)) => commands::train::ner(&args, diag),
        Command::Train(TrainCommand::Relations(args)) => commands::train::relations(&args, diag),
        Command::Schema(SchemaCommand::Check { file }) => commands::schema::check(&file),
        Command::Schema(SchemaCommand::Show { file }) => commands::schema::show(&file),
    }
}

/// A score between 0 and 1.
fn unit_interval(s: &str) -> std::result::Result<f32, String> {
    let v: f32 = s.parse().map_err(|e| format!("{e}"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
