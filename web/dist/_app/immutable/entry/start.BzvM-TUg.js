import{s as r}from"../chunks/alfHYjp_.js";import{y as t}from"../chunks/C5HRbVzb.js";export{t as load_css,r as start};
