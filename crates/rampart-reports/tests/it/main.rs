//! rampart-reports integration tests: reports rendered to files and read back by real
//! tools (poppler's `pdftotext`, `pdfinfo`, `pdftoppm`).

mod pdf;
mod sample;
