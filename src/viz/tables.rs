//! Tables as HTML, shown inline by evcxr: class counts, classification report, model summary.

use super::figure::{escape, evcxr_html};
use crate::data::ClassCounts;
use crate::metrics::ClassificationReport;
use crate::model::ModelSummary;

fn table(header: &[String], rows: &[Vec<String>]) -> String {
    let mut html = String::from("<table><thead><tr>");
    for h in header {
        html += &format!("<th>{}</th>", escape(h));
    }
    html += "</tr></thead><tbody>";
    for row in rows {
        html += "<tr>";
        for cell in row {
            html += &format!("<td>{}</td>", escape(cell));
        }
        html += "</tr>";
    }
    html + "</tbody></table>"
}

impl ClassCounts {
    /// The counts as an HTML table (the study's table 4.1).
    pub fn to_html(&self) -> String {
        let mut header = vec!["label".to_string(), "emotion".into(), "count".into()];
        header.extend(
            self.by_split
                .iter()
                .flatten()
                .map(|(s, _)| s.usage_name().to_string()),
        );
        let rows: Vec<Vec<String>> = self
            .classes
            .iter()
            .enumerate()
            .map(|(c, e)| {
                let mut row = vec![
                    e.index().to_string(),
                    e.name().to_string(),
                    self.total[c].to_string(),
                ];
                row.extend(
                    self.by_split
                        .iter()
                        .flatten()
                        .map(|(_, counts)| counts[c].to_string()),
                );
                row
            })
            .collect();
        table(&header, &rows)
    }

    pub fn evcxr_display(&self) {
        println!("{}", evcxr_html(&self.to_html()));
    }
}

impl ClassificationReport {
    /// The report as an HTML table, scikit-learn's layout.
    pub fn to_html(&self) -> String {
        let header: Vec<String> = ["", "precision", "recall", "f1-score", "support"]
            .map(String::from)
            .to_vec();
        let mut rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    r.class.name().to_string(),
                    format!("{:.2}", r.precision),
                    format!("{:.2}", r.recall),
                    format!("{:.2}", r.f1),
                    r.support.to_string(),
                ]
            })
            .collect();
        rows.push(vec![
            "accuracy".into(),
            String::new(),
            String::new(),
            format!("{:.2}", self.accuracy),
            self.support.to_string(),
        ]);
        for (name, [p, r, f]) in [
            ("macro avg", self.macro_avg),
            ("weighted avg", self.weighted_avg),
        ] {
            rows.push(vec![
                name.into(),
                format!("{p:.2}"),
                format!("{r:.2}"),
                format!("{f:.2}"),
                self.support.to_string(),
            ]);
        }
        table(&header, &rows)
    }

    pub fn evcxr_display(&self) {
        println!("{}", evcxr_html(&self.to_html()));
    }
}

impl ModelSummary {
    /// The summary as an HTML table (the study's Fig. 4.5).
    pub fn to_html(&self) -> String {
        let header: Vec<String> = ["Layer (type)", "Output Shape", "Param #"]
            .map(String::from)
            .to_vec();
        let mut rows: Vec<Vec<String>> = self
            .layers
            .iter()
            .map(|l| {
                let shape: Vec<String> = l.shape.iter().map(|s| s.to_string()).collect();
                vec![
                    format!("{} ({})", l.name, l.kind),
                    format!("(None, {})", shape.join(", ")),
                    l.params.to_string(),
                ]
            })
            .collect();
        rows.push(vec![
            "Total params".into(),
            String::new(),
            self.total_params().to_string(),
        ]);
        rows.push(vec![
            "Trainable params".into(),
            String::new(),
            self.trainable_params().to_string(),
        ]);
        rows.push(vec![
            "Non-trainable params".into(),
            String::new(),
            self.non_trainable_params().to_string(),
        ]);
        format!(
            "<p>Model: \"{}\"</p>{}",
            escape(&self.name),
            table(&header, &rows)
        )
    }

    pub fn evcxr_display(&self) {
        println!("{}", evcxr_html(&self.to_html()));
    }
}
