//! What a record carries about where its parts came from: the sources,
//! the parts, each part's origin and the variants kept. Types only (the
//! merging is in the parent module), so the record's model can hold them
//! without depending on the merge.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::string_enum;

string_enum!(
    /// A source a record, or a part of it, came from.
    DataSource {
        /// Entered or edited in Concord (the API, the pages, the CLI).
        Concord => "concord",
        /// The judiciary's list of coroners' reports (`pfd-judiciary`).
        PfdJudiciary => "pfd_judiciary",
        /// The PFD-Toolkit's copy of the reports (`pfd-toolkit`).
        PfdToolkit => "pfd_toolkit",
        /// The PFD-Toolkit's replies file (`pfd-toolkit-responses`).
        PfdToolkitResponses => "pfd_toolkit_responses",
    }
);

impl DataSource {
    /// Which source wins where two give a part different genuine values.
    pub fn rank(self) -> u8 {
        match self {
            DataSource::Concord => 3,
            DataSource::PfdJudiciary => 2,
            DataSource::PfdToolkit => 1,
            DataSource::PfdToolkitResponses => 0,
        }
    }

    /// How a person would name it.
    pub fn label(self) -> &'static str {
        match self {
            DataSource::Concord => "entered in Concord",
            DataSource::PfdJudiciary => "the judiciary's list of reports",
            DataSource::PfdToolkit => "the PFD-Toolkit's copy",
            DataSource::PfdToolkitResponses => "the PFD-Toolkit's replies",
        }
    }
}

string_enum!(
    /// The parts of a record whose origin is tracked.
    RecordPart {
        Reference => "reference",
        Published => "published",
        Title => "title",
        Text => "text",
        Addressees => "addressees",
        Themes => "themes",
        Source => "source",
        Evidence => "evidence",
        Responses => "responses",
    }
);

impl RecordPart {
    pub fn label(self) -> &'static str {
        match self {
            RecordPart::Reference => "Reference",
            RecordPart::Published => "Date of the report",
            RecordPart::Title => "Title",
            RecordPart::Text => "Text",
            RecordPart::Addressees => "Addressed to",
            RecordPart::Themes => "Themes",
            RecordPart::Source => "Source",
            RecordPart::Evidence => "Evidence",
            RecordPart::Responses => "Responses",
        }
    }
}

/// Which source supplied the value a part holds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartOrigin {
    pub part: RecordPart,
    pub from: DataSource,
    /// The file's name, for parts that came from a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// When the value was taken in (stamped by the store at import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// The value is a stand-in: the source published none (a placeholder
    /// text, a title made from the category), so any genuine value replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stand_in: bool,
}

/// A value a source gave for a part that the record does not use, kept so
/// that nothing a source said is silently lost.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Variant {
    pub part: RecordPart,
    pub value: String,
    pub from: DataSource,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// Why the record holds the other value.
    pub why: String,
}

/// Where a record's parts came from. Empty for records entered in Concord
/// before provenance was kept, or entered through Concord's own formats
/// without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Provenance {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartOrigin>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<Variant>,
}

impl Provenance {
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty() && self.variants.is_empty()
    }
}
