pub mod servicenow;
