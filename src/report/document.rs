//! A report as a list of blocks, rendered to Markdown and to HTML from the same content.

use std::fmt::Write as _;

/// One piece of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A heading of level 1-3.
    Heading(u8, String),
    Paragraph(String),
    /// A list of short lines.
    List(Vec<String>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// A picture file beside the report.
    Image {
        file: String,
        caption: String,
    },
    /// Preformatted text (fer's own tables).
    Code(String),
}

/// A titled list of blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub title: String,
    pub blocks: Vec<Block>,
}

impl Document {
    /// GitHub-flavoured Markdown.
    ///
    /// ```
    /// use fer::report::{Block, Document};
    /// let doc = Document {
    ///     title: "Runs".into(),
    ///     blocks: vec![Block::Table { header: vec!["a".into(), "b|c".into()], rows: vec![vec!["1".into(), "2".into()]] }],
    /// };
    /// assert_eq!(doc.to_markdown(), "# Runs\n\n| a | b\\|c |\n|---|---|\n| 1 | 2 |\n\n");
    /// ```
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# {}\n\n", self.title);
        for block in &self.blocks {
            match block {
                Block::Heading(level, text) => {
                    let _ = writeln!(out, "{} {text}\n", "#".repeat(*level as usize));
                }
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "{text}\n");
                }
                Block::List(items) => {
                    for item in items {
                        let _ = writeln!(out, "- {item}");
                    }
                    out.push('\n');
                }
                Block::Table { header, rows } => {
                    let line = |cells: &[String]| {
                        let cells: Vec<String> =
                            cells.iter().map(|c| c.replace('|', "\\|")).collect();
                        format!("| {} |\n", cells.join(" | "))
                    };
                    out.push_str(&line(header));
                    out.push_str(&format!("|{}\n", "---|".repeat(header.len())));
                    for row in rows {
                        out.push_str(&line(row));
                    }
                    out.push('\n');
                }
                Block::Image { file, caption } => {
                    let _ = writeln!(out, "![{caption}]({file})\n");
                }
                Block::Code(text) => {
                    let _ = writeln!(out, "```text\n{}\n```\n", text.trim_end());
                }
            }
        }
        out
    }

    /// A standalone HTML page.
    ///
    /// ```
    /// use fer::report::{Block, Document};
    /// let doc = Document { title: "a < b".into(), blocks: vec![Block::Paragraph("x & y".into())] };
    /// let html = doc.to_html();
    /// assert!(html.contains("<h1>a &lt; b</h1>") && html.contains("<p>x &amp; y</p>"));
    /// ```
    pub fn to_html(&self) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        for block in &self.blocks {
            match block {
                Block::Heading(level, text) => {
                    let _ = writeln!(out, "<h{level}>{}</h{level}>", escape(text));
                }
                Block::Paragraph(text) => {
                    let _ = writeln!(out, "<p>{}</p>", escape(text));
                }
                Block::List(items) => {
                    out.push_str("<ul>\n");
                    for item in items {
                        let _ = writeln!(out, "<li>{}</li>", escape(item));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Table { header, rows } => {
                    out.push_str("<table>\n<tr>");
                    for cell in header {
                        let _ = write!(out, "<th>{}</th>", escape(cell));
                    }
                    out.push_str("</tr>\n");
                    for row in rows {
                        out.push_str("<tr>");
                        for cell in row {
                            let _ = write!(out, "<td>{}</td>", escape(cell));
                        }
                        out.push_str("</tr>\n");
                    }
                    out.push_str("</table>\n");
                }
                Block::Image { file, caption } => {
                    let _ = writeln!(
                        out,
                        "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                        escape(file),
                        escape(caption),
                        escape(caption)
                    );
                }
                Block::Code(text) => {
                    let _ = writeln!(out, "<pre>{}</pre>", escape(text.trim_end()));
                }
            }
        }
        out.push_str("</body>\n</html>\n");
        out
    }
}

const STYLE: &str = "body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}\
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}img{max-width:100%}\
pre{background:#f7f7f7;padding:.8em;overflow-x:auto}figure{margin:1em 0}";

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}
