//! One segment: an id and its elements.

/// A segment: its id (`INS`) and its elements, each held as written — a composite element's
/// components joined by the interchange's sub-element separator, which [`components`](Self::components)
/// splits. Built with [`new`](Self::new) and [`el`](Self::el) / [`composite`](Self::composite).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Segment {
    id: String,
    elements: Vec<Element>,
}

/// One element: its components (one for a simple element).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Element(pub(crate) Vec<String>);

impl Segment {
    /// A segment with no elements yet.
    pub fn new(id: impl Into<String>) -> Self {
        Self { id: id.into(), elements: Vec::new() }
    }

    /// Appends a simple element (empty for one left out).
    #[must_use]
    pub fn el(mut self, value: impl Into<String>) -> Self {
        self.elements.push(Element(vec![value.into()]));
        self
    }

    /// Appends an element that may be absent.
    #[must_use]
    pub fn opt(self, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.el(v),
            None => self.el(""),
        }
    }

    /// Appends a composite element of `components`.
    #[must_use]
    pub fn composite<S: Into<String>>(mut self, components: impl IntoIterator<Item = S>) -> Self {
        self.elements.push(Element(components.into_iter().map(Into::into).collect()));
        self
    }

    pub(crate) fn from_parts(id: String, elements: Vec<Element>) -> Self {
        Self { id, elements }
    }

    pub(crate) fn elements(&self) -> &[Element] {
        &self.elements
    }

    /// The segment's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How many elements it has (trailing empty ones are not written, so not counted once read).
    pub fn len(&self) -> usize {
        self.elements.len()
    }

    /// Whether it has no elements.
    pub fn is_empty(&self) -> bool {
        self.elements.is_empty()
    }

    /// Element `n` (1-based: `INS03` is `element(3)`), its first component for a composite;
    /// `""` when absent.
    pub fn element(&self, n: usize) -> &str {
        self.component(n, 1)
    }

    /// Component `m` (1-based) of element `n`; `""` when absent.
    pub fn component(&self, n: usize, m: usize) -> &str {
        n.checked_sub(1)
            .and_then(|i| self.elements.get(i))
            .and_then(|e| m.checked_sub(1).and_then(|j| e.0.get(j)))
            .map_or("", String::as_str)
    }

    /// Every component of element `n` (empty when absent).
    pub fn components(&self, n: usize) -> &[String] {
        n.checked_sub(1).and_then(|i| self.elements.get(i)).map_or(&[], |e| e.0.as_slice())
    }

    /// Element `n`, or `None` when absent or empty.
    pub fn get(&self, n: usize) -> Option<&str> {
        Some(self.element(n)).filter(|v| !v.is_empty())
    }

    /// Without trailing empty elements (as written and as read).
    pub(crate) fn trimmed(mut self) -> Self {
        while self.elements.last().is_some_and(|e| e.0.iter().all(String::is_empty)) {
            self.elements.pop();
        }
        for e in &mut self.elements {
            while e.0.len() > 1 && e.0.last().is_some_and(String::is_empty) {
                e.0.pop();
            }
        }
        self
    }
}
