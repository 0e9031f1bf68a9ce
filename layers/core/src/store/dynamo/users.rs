//! Accounts in DynamoDB: one item per username in the `USER` partition.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::item::{self, Builder, Item};
use super::keys::{self, PK, SK, USERS};
use super::{DynamoStore, attrs, condition_failed, s};
use crate::store::{NewUser, Role, StoreError, User, UserStore, now_ms, parse_role};

fn to_user(item: &Item) -> Result<User, StoreError> {
    Ok(User {
        id: item::n(item, attrs::ID)?,
        username: item::s(item, attrs::USERNAME)?,
        password_hash: item::s(item, attrs::PASSWORD_HASH)?,
        role: parse_role(&item::s(item, attrs::ROLE)?)?,
        active: item::bool(item, attrs::ACTIVE)?,
        created_at: item::n(item, attrs::CREATED_AT)?,
    })
}

#[async_trait::async_trait]
impl UserStore for DynamoStore {
    async fn create_user(&self, user: NewUser) -> Result<User, StoreError> {
        let id = self.next("user").await?;
        let created = now_ms();
        let item = Builder::key(USERS, &user.username)
            .n(attrs::ID, id)
            .s(attrs::USERNAME, &user.username)
            .s(attrs::PASSWORD_HASH, &user.password_hash)
            .s(attrs::ROLE, user.role.as_str())
            .bool(attrs::ACTIVE, true)
            .n(attrs::CREATED_AT, created)
            .build();
        if !self.put_new(item).await? {
            return Err(StoreError::Conflict(format!("user {}", user.username)));
        }
        Ok(User {
            id,
            username: user.username,
            password_hash: user.password_hash,
            role: user.role,
            active: true,
            created_at: created,
        })
    }

    async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        if !keys::fits_sort_key(username) {
            return Ok(None);
        }
        self.get(USERS, username)
            .await?
            .as_ref()
            .map(to_user)
            .transpose()
    }

    async fn users(&self) -> Result<Vec<User>, StoreError> {
        self.collect(self.partition(USERS, None), None)
            .await?
            .iter()
            .map(to_user)
            .collect()
    }

    async fn update_user(
        &self,
        username: &str,
        active: Option<bool>,
        role: Option<Role>,
    ) -> Result<Option<User>, StoreError> {
        if !keys::fits_sort_key(username) {
            return Ok(None);
        }
        let mut sets = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(USERS))
            .key(SK, s(username))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllNew);
        if let Some(active) = active {
            sets.push("active = :active");
            update = update.expression_attribute_values(":active", AttributeValue::Bool(active));
        }
        if let Some(role) = role {
            sets.push("#role = :role");
            update = update
                .expression_attribute_names("#role", attrs::ROLE)
                .expression_attribute_values(":role", s(role.as_str()));
        }
        if sets.is_empty() {
            return self.user(username).await;
        }
        match update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await
        {
            Ok(out) => to_user(&out.attributes.unwrap_or_default()).map(Some),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(self.err(&e)),
        }
    }
}
