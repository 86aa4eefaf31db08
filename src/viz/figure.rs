//! A rendered picture: PNG and SVG, savable, and shown inline by evcxr.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Once;

use base64::Engine;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::atomic::write_atomically;

static FONT: &[u8] = include_bytes!("DejaVuSansMono.ttf");
static REGISTER: Once = Once::new();

/// The embedded font, registered once as plotters' `sans-serif`, so plots render the same
/// on machines without fonts.
pub(crate) fn ensure_font() {
    REGISTER.call_once(|| {
        for style in [FontStyle::Normal, FontStyle::Bold] {
            if plotters::style::register_font("sans-serif", style, FONT).is_err() {
                unreachable!("the embedded font parses");
            }
        }
    });
}

/// Why a figure could not be drawn: the message of plotters' drawing backend.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("drawing failed: {0}")]
pub struct DrawError(String);

impl DrawError {
    /// Any plotters error, by its message (plotters' errors are generic over the backend).
    pub(crate) fn of(error: impl std::fmt::Display) -> DrawError {
        DrawError(error.to_string())
    }
}

/// Something that draws itself onto any plotters backend.
pub(crate) trait Drawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawError>;
}

/// A picture as PNG and SVG.
///
/// In an evcxr notebook a `Figure` that ends a cell shows inline (`evcxr_display`).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub width: u32,
    pub height: u32,
    png: Vec<u8>,
    svg: String,
}

impl Figure {
    /// Renders `drawing` at `width` x `height` pixels in both formats.
    pub(crate) fn render(
        drawing: &impl Drawing,
        (width, height): (u32, u32),
    ) -> Result<Figure, DrawError> {
        ensure_font();
        let mut rgb = vec![0u8; (width * height * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
            drawing.draw(&root)?;
            root.present().map_err(DrawError::of)?;
        }
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
            drawing.draw(&root)?;
            root.present().map_err(DrawError::of)?;
        }
        Ok(Figure {
            width,
            height,
            png: encode_png(rgb, width, height),
            svg,
        })
    }

    /// A figure from an RGB raster (face grids); the SVG embeds the PNG.
    pub(crate) fn from_rgb(rgb: Vec<u8>, width: u32, height: u32) -> Figure {
        let png = encode_png(rgb, width, height);
        let data = base64::engine::general_purpose::STANDARD.encode(&png);
        let svg = format!(
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"><image width="{width}" height="{height}" href="data:image/png;base64,{data}"/></svg>"#
        );
        Figure {
            width,
            height,
            png,
            svg,
        }
    }

    /// The PNG bytes.
    pub fn png(&self) -> &[u8] {
        &self.png
    }

    /// The SVG text.
    pub fn svg(&self) -> &str {
        &self.svg
    }

    /// Writes the PNG, atomically.
    pub fn save_png(&self, path: impl AsRef<Path>) -> io::Result<()> {
        write_atomically(path.as_ref(), |f| f.write_all(&self.png))
    }

    /// Writes the SVG, atomically.
    pub fn save_svg(&self, path: impl AsRef<Path>) -> io::Result<()> {
        write_atomically(path.as_ref(), |f| f.write_all(self.svg.as_bytes()))
    }

    /// evcxr's display protocol: the PNG, inline.
    pub fn evcxr_display(&self) {
        println!("{}", self.evcxr_content());
    }

    /// The text evcxr reads from stdout to show this figure.
    pub fn evcxr_content(&self) -> String {
        let data = base64::engine::general_purpose::STANDARD.encode(&self.png);
        format!("EVCXR_BEGIN_CONTENT image/png\n{data}\nEVCXR_END_CONTENT")
    }
}

fn encode_png(rgb: Vec<u8>, width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_raw(width, height, rgb).expect("buffer matches the size");
    let mut png = Vec::new();
    image
        .write_to(&mut io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("PNG encoding into memory cannot fail");
    png
}

/// evcxr's display protocol for HTML (tables).
pub(crate) fn evcxr_html(html: &str) -> String {
    format!("EVCXR_BEGIN_CONTENT text/html\n{html}\nEVCXR_END_CONTENT")
}

/// Escapes text for HTML.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
