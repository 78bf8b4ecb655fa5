//! The resource schemas the SCIM server speaks — RFC 7643's User (§4.1), Enterprise User (§4.3)
//! and Group (§4.2) — written as data: each attribute's type, plurality, requirement, case
//! sensitivity, mutability, when it is returned, its uniqueness and canonical values. The server
//! publishes them at `/Schemas` and follows them to validate, project and patch resources.

use serde_json::{Value, json};

/// The core User schema.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The Enterprise User extension.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The core Group schema.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// An attribute's data type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Kind {
    /// A string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A number with a fraction.
    Decimal,
    /// A whole number.
    Integer,
    /// An RFC 3339 date-time.
    DateTime,
    /// Base64 bytes.
    Binary,
    /// A URI of one of the given kinds (`User`, `Group`, `external`, `uri`).
    Reference(&'static [&'static str]),
    /// An object of sub-attributes.
    Complex,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference(_) => "reference",
            Self::Complex => "complex",
        }
    }
}

/// Who may change an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mutability {
    /// The server sets it; what a client sends is ignored.
    ReadOnly,
    /// Anyone.
    ReadWrite,
    /// Set once, at creation (or when empty).
    Immutable,
    /// Written, never read back.
    WriteOnly,
}

/// When an attribute is in an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Returned {
    /// Always, whatever `attributes` says.
    Always,
    /// Never.
    Never,
    /// Unless `attributes` leaves it out.
    Default,
    /// Only when `attributes` asks for it.
    Request,
}

/// An attribute of a schema.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Attribute {
    /// Its name.
    pub name: &'static str,
    /// Its type.
    pub kind: Kind,
    /// Whether it holds a list.
    pub multi: bool,
    /// Whether a resource must have it.
    pub required: bool,
    /// Whether its strings compare case-sensitively.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// Whether it is unique in the tenant (`server`).
    pub unique: bool,
    /// Its suggested values (`type`: `work`, `home`…).
    pub canonical: &'static [&'static str],
    /// A complex attribute's sub-attributes.
    pub sub: &'static [Attribute],
    /// What it is.
    pub description: &'static str,
}

const fn attr(name: &'static str, kind: Kind, description: &'static str) -> Attribute {
    Attribute {
        name,
        kind,
        multi: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        unique: false,
        canonical: &[],
        sub: &[],
        description,
    }
}

const fn text(name: &'static str, description: &'static str) -> Attribute {
    attr(name, Kind::String, description)
}

const fn complex(name: &'static str, sub: &'static [Attribute], description: &'static str) -> Attribute {
    let mut a = attr(name, Kind::Complex, description);
    a.sub = sub;
    a
}

const fn multi(mut a: Attribute) -> Attribute {
    a.multi = true;
    a
}

const fn read_only(mut a: Attribute) -> Attribute {
    a.mutability = Mutability::ReadOnly;
    a
}

const fn immutable(mut a: Attribute) -> Attribute {
    a.mutability = Mutability::Immutable;
    a
}

const fn canonical(mut a: Attribute, values: &'static [&'static str]) -> Attribute {
    a.canonical = values;
    a
}

/// `value`, `display`, `type` (with `types`) and `primary`: a plural attribute's usual parts.
const fn plural_parts(value: Attribute, types: &'static [&'static str]) -> [Attribute; 4] {
    [
        value,
        text("display", "A human-readable name, primarily used for display purposes."),
        canonical(text("type", "A label indicating the attribute's function."), types),
        attr("primary", Kind::Boolean, "Whether this is the primary value."),
    ]
}

const NAME: [Attribute; 6] = [
    text("formatted", "The full name, formatted for display."),
    text("familyName", "The family name, or last name."),
    text("givenName", "The given name, or first name."),
    text("middleName", "The middle name(s)."),
    text("honorificPrefix", "The honorific prefix(es) (\"Ms.\")."),
    text("honorificSuffix", "The honorific suffix(es) (\"III\")."),
];
const EMAILS: [Attribute; 4] =
    plural_parts(text("value", "The email address, canonicalized per RFC 5321."), &["work", "home", "other"]);
const PHONES: [Attribute; 4] = plural_parts(
    text("value", "The phone number, in RFC 3966 form (\"tel:+1-201-555-0123\")."),
    &["work", "home", "mobile", "fax", "pager", "other"],
);
const IMS: [Attribute; 4] = plural_parts(
    text("value", "The instant messaging address."),
    &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
);
const PHOTOS: [Attribute; 4] =
    plural_parts(attr("value", Kind::Reference(&["external"]), "The URL of a photo."), &["photo", "thumbnail"]);
const ADDRESSES: [Attribute; 8] = [
    text("formatted", "The full mailing address, formatted for display."),
    text("streetAddress", "The street address."),
    text("locality", "The city or locality."),
    text("region", "The state or region."),
    text("postalCode", "The zip code or postal code."),
    text("country", "The country, as an ISO 3166-1 alpha-2 code."),
    canonical(text("type", "A label indicating the address's function."), &["work", "home", "other"]),
    attr("primary", Kind::Boolean, "Whether this is the primary address."),
];
const GROUPS: [Attribute; 4] = [
    read_only(text("value", "The identifier of the user's group.")),
    read_only(attr("$ref", Kind::Reference(&["User", "Group"]), "The URI of the group.")),
    read_only(text("display", "The group's display name.")),
    read_only(canonical(text("type", "How the membership is held."), &["direct", "indirect"])),
];
const ENTITLEMENTS: [Attribute; 4] = plural_parts(text("value", "The value of an entitlement."), &[]);
const ROLES: [Attribute; 4] = plural_parts(text("value", "The value of a role."), &[]);
const CERTIFICATES: [Attribute; 4] =
    plural_parts(attr("value", Kind::Binary, "A DER-encoded X.509 certificate, base64."), &[]);

/// The core User schema's attributes.
pub const USER_ATTRIBUTES: &[Attribute] = &[
    {
        let mut a = text("userName", "The unique identifier of the user, typically used to sign in.");
        (a.required, a.unique) = (true, true);
        a
    },
    complex("name", &NAME, "The components of the user's name."),
    text("displayName", "The name of the user, suitable for display."),
    text("nickName", "The casual way to address the user."),
    attr("profileUrl", Kind::Reference(&["external"]), "A URI of the user's online profile."),
    text("title", "The user's title (\"Vice President\")."),
    text("userType", "The relationship between the organization and the user (\"Employee\")."),
    text("preferredLanguage", "The user's preferred written or spoken language (RFC 7231)."),
    text("locale", "The user's default location (\"en-US\")."),
    text("timezone", "The user's time zone, in the IANA database's format (\"America/Los_Angeles\")."),
    attr("active", Kind::Boolean, "Whether the user may sign in."),
    {
        let mut a = text("password", "The user's clear-text password: written, never returned.");
        (a.mutability, a.returned) = (Mutability::WriteOnly, Returned::Never);
        a
    },
    multi(complex("emails", &EMAILS, "Email addresses for the user.")),
    multi(complex("phoneNumbers", &PHONES, "Phone numbers for the user.")),
    multi(complex("ims", &IMS, "Instant messaging addresses for the user.")),
    multi(complex("photos", &PHOTOS, "URLs of photos of the user.")),
    multi(complex("addresses", &ADDRESSES, "Physical mailing addresses for the user.")),
    read_only(multi(complex("groups", &GROUPS, "The groups the user belongs to (set through the groups)."))),
    multi(complex("entitlements", &ENTITLEMENTS, "Entitlements of the user.")),
    multi(complex("roles", &ROLES, "Roles of the user.")),
    multi(complex("x509Certificates", &CERTIFICATES, "Certificates issued to the user.")),
];

const MANAGER: [Attribute; 3] = [
    text("value", "The id of the user's manager."),
    attr("$ref", Kind::Reference(&["User"]), "The URI of the manager's User resource."),
    read_only(text("displayName", "The manager's display name.")),
];

/// The Enterprise User extension's attributes.
pub const ENTERPRISE_ATTRIBUTES: &[Attribute] = &[
    text("employeeNumber", "A number assigned by the organization."),
    text("costCenter", "The cost center."),
    text("organization", "The organization."),
    text("division", "The division."),
    text("department", "The department."),
    complex("manager", &MANAGER, "The user's manager."),
];

const MEMBERS: [Attribute; 4] = [
    immutable(text("value", "The id of the member.")),
    immutable(attr("$ref", Kind::Reference(&["User", "Group"]), "The URI of the member.")),
    immutable(canonical(text("type", "The member's resource type."), &["User", "Group"])),
    read_only(text("display", "The member's display name.")),
];

/// The core Group schema's attributes.
pub const GROUP_ATTRIBUTES: &[Attribute] = &[
    {
        let mut a = text("displayName", "A human-readable name for the group.");
        a.required = true;
        a
    },
    multi(complex("members", &MEMBERS, "The members of the group.")),
];

/// A schema: its URN, name and attributes.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct Schema {
    /// The URN.
    pub id: &'static str,
    /// Its name.
    pub name: &'static str,
    /// What it describes.
    pub description: &'static str,
    /// Its attributes.
    pub attributes: &'static [Attribute],
}

/// Every schema the server speaks.
pub const SCHEMAS: [Schema; 3] = [
    Schema { id: USER, name: "User", description: "User Account", attributes: USER_ATTRIBUTES },
    Schema {
        id: ENTERPRISE_USER,
        name: "EnterpriseUser",
        description: "Enterprise User",
        attributes: ENTERPRISE_ATTRIBUTES,
    },
    Schema { id: GROUP, name: "Group", description: "Group", attributes: GROUP_ATTRIBUTES },
];

/// The schema of `id` (case-insensitively).
pub fn schema(id: &str) -> Option<&'static Schema> {
    SCHEMAS.iter().find(|s| s.id.eq_ignore_ascii_case(id))
}

/// The attribute `name` of `attributes` (case-insensitively).
pub fn find<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attributes.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

fn mutability_name(m: Mutability) -> &'static str {
    match m {
        Mutability::ReadOnly => "readOnly",
        Mutability::ReadWrite => "readWrite",
        Mutability::Immutable => "immutable",
        Mutability::WriteOnly => "writeOnly",
    }
}

fn returned_name(r: Returned) -> &'static str {
    match r {
        Returned::Always => "always",
        Returned::Never => "never",
        Returned::Default => "default",
        Returned::Request => "request",
    }
}

impl Attribute {
    /// The attribute as RFC 7643 §7 writes it.
    pub fn to_json(&self) -> Value {
        let mut out = json!({
            "name": self.name, "type": self.kind.name(), "multiValued": self.multi, "description": self.description,
            "required": self.required, "caseExact": self.case_exact, "mutability": mutability_name(self.mutability),
            "returned": returned_name(self.returned), "uniqueness": if self.unique { "server" } else { "none" },
        });
        if !self.canonical.is_empty() {
            out["canonicalValues"] = json!(self.canonical);
        }
        if let Kind::Reference(types) = self.kind {
            out["referenceTypes"] = json!(types);
        }
        if self.kind == Kind::Complex {
            out["subAttributes"] = Value::Array(self.sub.iter().map(Attribute::to_json).collect());
        }
        out
    }
}

impl Schema {
    /// The schema as a `/Schemas` resource, its `meta.location` under `base`.
    pub fn to_json(&self, base: &str) -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id, "name": self.name, "description": self.description,
            "attributes": self.attributes.iter().map(Attribute::to_json).collect::<Vec<_>>(),
            "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{}", self.id)},
        })
    }
}
