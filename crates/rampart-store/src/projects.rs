//! Projects: named groups of hosts defined by a label selector, not by a membership
//! list, so a host enrolled with the right labels belongs without anyone adding it.

use crate::hosts::Labels;
use crate::users::affected;
use crate::{BeginWrite as _, Error, Millis, Result, RowExt, Store, found, new_id, with_pool};

/// A project. A host belongs when it carries every `selector` label with that value;
/// an empty selector selects every host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub description: String,
    pub selector: Labels,
    pub created_at: Millis,
    pub updated_at: Millis,
}

/// What [`Store::create_project`] needs.
#[derive(Clone, Debug)]
pub struct NewProject<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub selector: &'a Labels,
}

/// The fields [`Store::update_project`] changes; `None` leaves one as it is.
#[derive(Clone, Debug, Default)]
pub struct ProjectUpdate<'a> {
    pub name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub selector: Option<&'a Labels>,
}

fn project(row: &impl RowExt) -> Result<Project> {
    Ok(Project {
        id: row.text("id")?,
        name: row.text("name")?,
        description: row.text("description")?,
        selector: Labels::new(),
        created_at: row.int("created_at")?,
        updated_at: row.int("updated_at")?,
    })
}

impl Store {
    /// Creates a project; [`Error::Conflict`] when the name is taken.
    pub async fn create_project(&self, new: NewProject<'_>, now: Millis) -> Result<Project> {
        let project = Project {
            id: new_id(now),
            name: new.name.to_owned(),
            description: new.description.to_owned(),
            selector: new.selector.clone(),
            created_at: now,
            updated_at: now,
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            sqlx::query(
                "INSERT INTO projects (id, name, description, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(&project.id)
            .bind(&project.name)
            .bind(&project.description)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::on_write("project"))?;
            for (key, value) in &project.selector {
                sqlx::query(
                    "INSERT INTO project_selectors (project_id, key, value) VALUES ($1, $2, $3)",
                )
                .bind(&project.id)
                .bind(key)
                .bind(value)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(project)
    }

    /// One project with its selector.
    pub async fn get_project(&self, id: &str) -> Result<Project> {
        self.load_project("id", id).await
    }

    /// The project with this name.
    pub async fn get_project_by_name(&self, name: &str) -> Result<Project> {
        self.load_project("name", name).await
    }

    async fn load_project(&self, column: &'static str, key: &str) -> Result<Project> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT id, name, description, created_at, updated_at FROM projects WHERE {column} = $1"
        ));
        with_pool!(self, pool => {
            let row = sqlx::query(sql).bind(key).fetch_optional(pool).await?;
            let mut project = project(&found("project", row)?)?;
            let rows = sqlx::query("SELECT key, value FROM project_selectors WHERE project_id = $1")
                .bind(&project.id)
                .fetch_all(pool)
                .await?;
            for row in &rows {
                project.selector.insert(row.text("key")?, row.text("value")?);
            }
            Ok(project)
        })
    }

    /// Every project with its selector, by name.
    pub async fn list_projects(&self) -> Result<Vec<Project>> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, name, description, created_at, updated_at FROM projects
                 ORDER BY name, id",
            )
            .fetch_all(pool)
            .await?;
            let mut projects = rows.iter().map(project).collect::<Result<Vec<_>>>()?;
            let selectors = sqlx::query("SELECT project_id, key, value FROM project_selectors")
                .fetch_all(pool)
                .await?;
            let mut by_id: std::collections::HashMap<String, Labels> = Default::default();
            for row in &selectors {
                by_id
                    .entry(row.text("project_id")?)
                    .or_default()
                    .insert(row.text("key")?, row.text("value")?);
            }
            for p in &mut projects {
                p.selector = by_id.remove(&p.id).unwrap_or_default();
            }
            Ok(projects)
        })
    }

    /// Changes a project's name, description or selector in one transaction.
    pub async fn update_project(
        &self,
        id: &str,
        update: ProjectUpdate<'_>,
        now: Millis,
    ) -> Result<Project> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await?;
            let done = sqlx::query(
                "UPDATE projects SET name = COALESCE($2, name),
                     description = COALESCE($3, description), updated_at = $4
                 WHERE id = $1",
            )
            .bind(id)
            .bind(update.name)
            .bind(update.description)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(Error::on_write("project"))?;
            affected("project", done.rows_affected())?;
            if let Some(selector) = update.selector {
                sqlx::query("DELETE FROM project_selectors WHERE project_id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for (key, value) in selector {
                    sqlx::query(
                        "INSERT INTO project_selectors (project_id, key, value)
                         VALUES ($1, $2, $3)",
                    )
                    .bind(id)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await?;
                }
            }
            tx.commit().await?;
        });
        self.get_project(id).await
    }

    /// Deletes a project. Hosts are untouched; enrolment tokens for it lose the link.
    pub async fn delete_project(&self, id: &str) -> Result<()> {
        with_pool!(self, pool => {
            let done = sqlx::query("DELETE FROM projects WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
            affected("project", done.rows_affected())
        })
    }
}
