import{s as r}from"../chunks/CV1lnp-i.js";import{y as t}from"../chunks/BPXhC8gq.js";export{t as load_css,r as start};
